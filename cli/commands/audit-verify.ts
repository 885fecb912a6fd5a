import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import readline from 'node:readline';
import type { KeyObject } from 'node:crypto';
import { EXPORT_FORMAT, type SignedCheckpoint, type VerifyReport } from '../../libs/contracts/src/index.js';
import { KeyRing, parsePublicKeys } from '../../src/core/signing/key-ring.js';
import type { ChainEntry } from '../../src/modules/audit/chain.js';
import { ChainVerifier } from '../../src/modules/audit/chain-verifier.js';
import { compareWithWitness, latestWitnessed } from '../../src/modules/audit/witness-check.js';

/**
 * `agent-bom audit verify FILE --key PEM | --key-url URL`: verifies an export offline, streaming the file (any
 * size, constant memory), with nothing but public keys. Loads neither Nest nor a database driver.
 * Exit 0: the export verifies; 1: it does not (the report says where); 2: usage (no key, unreadable file, …).
 */
export class VerifyUsageError extends Error {
  override name = 'UsageError';
}

export interface VerifyOptions {
  key?: string;
  keyUrl?: string;
  token?: string;
  /** A witness file (JSONL of signed checkpoints, AGENT_BOM_AUDIT_WITNESS_FILE) to compare the export with. */
  witness?: string;
  json?: boolean;
}

interface WitnessOutcome {
  file: string;
  witnessed_seq: number | null;
  ok: boolean;
  invalid_lines: number;
}

export async function verifyExportFile(file: string, options: VerifyOptions): Promise<number> {
  const ring = new KeyRing(await loadKeys(options));
  try {
    await fs.access(file);
  } catch {
    throw new VerifyUsageError(`cannot read ${file}`);
  }
  if (!options.witness) {
    const report = await verifyStream(createReadStream(file), ring);
    if (options.json) process.stdout.write(JSON.stringify({ file, ...report }, null, 2) + '\n');
    else process.stdout.write(describe(report));
    return report.ok ? 0 : 1;
  }
  // With a witness: the export must reach the latest witnessed checkpoint of its tenant, with the same hash.
  const tenantId = await tenantOf(file);
  try {
    await fs.access(options.witness);
  } catch {
    throw new VerifyUsageError(`cannot read the witness file ${options.witness}`);
  }
  const witnessLines = readline.createInterface({
    input: createReadStream(options.witness, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  const { latest, invalid } = await latestWitnessed(witnessLines, tenantId, (k, p, sig) =>
    ring.verify(k, p, sig),
  );
  let hashAtWitness: string | null = null;
  const report = await verifyStream(createReadStream(file), ring, (entry) => {
    if (latest && entry.seq === latest.seq) hashAtWitness = entry.hash;
  });
  const witness: WitnessOutcome = {
    file: options.witness,
    witnessed_seq: latest?.seq ?? null,
    ok: true,
    invalid_lines: invalid,
  };
  if (latest && report.ok) {
    const broken = compareWithWitness(latest, {
      entryHash: hashAtWitness,
      lastSeq: report.verified_to ?? 0,
      anchorSeq: (report.verified_from ?? 1) - 1,
    });
    if (broken) {
      witness.ok = false;
      report.ok = false;
      report.first_broken = broken;
    }
  }
  if (options.json) process.stdout.write(JSON.stringify({ file, ...report, witness }, null, 2) + '\n');
  else {
    process.stdout.write(describe(report));
    process.stdout.write(
      latest
        ? `witness: latest checkpoint at seq ${latest.seq}${witness.ok ? ' is covered' : ' is NOT covered'}` +
            `${invalid ? ` (${invalid} line(s) with a bad signature ignored)` : ''}\n`
        : `witness: no signed checkpoint of tenant ${tenantId} in ${options.witness}\n`,
    );
  }
  return report.ok ? 0 : 1;
}

/** The tenant an export is of, from its header line. */
async function tenantOf(file: string): Promise<string> {
  const lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    lines.close();
    try {
      return asHeader(JSON.parse(text) as Record<string, unknown>).tenant_id;
    } catch (error) {
      if (error instanceof VerifyUsageError) throw error;
      break;
    }
  }
  throw new VerifyUsageError('the first line is not an agent-bom audit export header');
}

interface Header {
  kind: 'header';
  format: string;
  tenant_id: string;
  from_seq: number;
  to_seq: number;
  partial: boolean;
}

/** Feeds an NDJSON export line by line into the chain verifier. */
export async function verifyStream(
  input: NodeJS.ReadableStream,
  ring: KeyRing,
  onEntry?: (entry: ChainEntry) => void,
): Promise<VerifyReport> {
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let header: Header | undefined;
  let verifier: ChainVerifier | undefined;
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    let value: { kind?: unknown } & Record<string, unknown>;
    try {
      value = JSON.parse(text) as typeof value;
    } catch {
      value = { kind: undefined };
    }
    if (!verifier) {
      header = asHeader(value);
      verifier = new ChainVerifier({
        tenantId: header.tenant_id,
        start: header.partial ? 'partial' : 'strict',
        checkSignature: (keyId, payload, signature) => ring.verify(keyId, payload, signature),
      });
      continue;
    }
    const { kind, ...rest } = value;
    if (kind === 'entry') {
      if (verifier.addEntry(rest as unknown as ChainEntry, number)) onEntry?.(rest as unknown as ChainEntry);
    } else if (kind === 'checkpoint') verifier.addCheckpoint(rest as unknown as SignedCheckpoint, number);
    else if (kind !== 'end') verifier.fail(null, 'malformed', 'not a JSON line of a known kind', number);
    if (!verifier.ok) break;
  }
  lines.close();
  if (!verifier || !header) throw new VerifyUsageError('the file is empty: not an agent-bom audit export');
  return verifier.finish({ head: { seq: header.to_seq }, requireFinalCheckpoint: true });
}

function asHeader(value: Record<string, unknown>): Header {
  const ok =
    value.kind === 'header' &&
    value.format === EXPORT_FORMAT &&
    typeof value.tenant_id === 'string' &&
    Number.isSafeInteger(value.from_seq) &&
    Number.isSafeInteger(value.to_seq) &&
    typeof value.partial === 'boolean';
  if (!ok) throw new VerifyUsageError(`the first line is not an ${EXPORT_FORMAT} header`);
  return value as unknown as Header;
}

async function loadKeys(options: VerifyOptions): Promise<KeyObject[]> {
  if (options.key && options.keyUrl) throw new VerifyUsageError('use --key or --key-url, not both');
  if (!options.key && !options.keyUrl) {
    throw new VerifyUsageError('a public key is required: --key PEM_FILE or --key-url URL');
  }
  let text: string;
  if (options.key) {
    try {
      text = await fs.readFile(options.key, 'utf8');
    } catch {
      throw new VerifyUsageError(`cannot read the key file ${options.key}`);
    }
  } else {
    text = await fetchKeys(options.keyUrl!, options.token);
  }
  try {
    return keysFrom(text);
  } catch (error) {
    throw new VerifyUsageError(`no usable Ed25519 public key: ${(error as Error).message}`);
  }
}

/** PEM text, or the JSON of `GET /v1/audit/verification-key`. */
function keysFrom(text: string): KeyObject[] {
  if (!text.trimStart().startsWith('{')) return parsePublicKeys(text);
  const doc = JSON.parse(text) as { keys?: Array<{ public_key_pem?: unknown }> };
  const pems = (doc.keys ?? [])
    .map((k) => k.public_key_pem)
    .filter((p): p is string => typeof p === 'string');
  return parsePublicKeys(pems.join('\n'));
}

async function fetchKeys(url: string, token: string | undefined): Promise<string> {
  if (!/^https?:\/\//.test(url)) throw new VerifyUsageError('--key-url must be an http:// or https:// URL');
  let response: Response;
  try {
    response = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new VerifyUsageError(`cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new VerifyUsageError(`${url} answered ${response.status}`);
  return response.text();
}

function describe(report: VerifyReport): string {
  const range =
    report.verified_from === null ? 'no entries' : `entries ${report.verified_from}..${report.verified_to}`;
  const signed = report.checkpointed_to === null ? 'none' : `through seq ${report.checkpointed_to}`;
  const facts = `${report.entries_verified} entries, ${report.checkpoints_verified} checkpoints, signed ${signed}`;
  if (report.ok) {
    const start = report.start === 'unanchored' ? '\nnote: partial export; its start is not anchored' : '';
    return `ok: tenant ${report.tenant_id}, ${range} verified (${facts})${start}\n`;
  }
  const broken = report.first_broken!;
  const where = `${broken.seq === null ? '' : `seq ${broken.seq}`}${broken.line ? ` (line ${broken.line})` : ''}`;
  return (
    `BROKEN at ${where || 'end of file'}: ${broken.reason}: ${broken.detail}\n` +
    `verified before the break: ${range} (${facts})\n`
  );
}
