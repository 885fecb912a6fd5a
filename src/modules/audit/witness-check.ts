import type { SignedCheckpoint, VerifyReport } from '../../../libs/contracts/src/index.js';
import type { SignatureCheck } from '../../core/signing/key-ring.js';
import { CHECKPOINT_FORMAT, checkpointPayload } from './chain.js';

/**
 * Comparing a chain with its witness (docs/audit.md, "Witness"), shared by `GET /v1/audit/verify` and the
 * offline `agent-bom audit verify --witness`. Pure: the caller supplies the witness lines, the signature check
 * and what the chain holds at the witnessed seq.
 */
export interface Witnessed {
  /** The latest checkpoint of the tenant whose signature verifies; undefined when there is none. */
  latest: SignedCheckpoint | undefined;
  /** Lines of the tenant that did not verify (forged or damaged); never trusted. */
  invalid: number;
}

export async function latestWitnessed(
  lines: AsyncIterable<string>,
  tenantId: string,
  checkSignature: (keyId: string, payload: string, signature: string) => SignatureCheck,
): Promise<Witnessed> {
  let latest: SignedCheckpoint | undefined;
  let invalid = 0;
  for await (const line of lines) {
    if (!line.includes(tenantId)) continue;
    let checkpoint: SignedCheckpoint;
    try {
      checkpoint = JSON.parse(line) as SignedCheckpoint;
    } catch {
      continue;
    }
    if (checkpoint?.tenant_id !== tenantId) continue;
    const valid =
      checkpoint.format === CHECKPOINT_FORMAT &&
      Number.isSafeInteger(checkpoint.seq) &&
      typeof checkpoint.key_id === 'string' &&
      typeof checkpoint.signature === 'string' &&
      checkSignature(checkpoint.key_id, checkpointPayload(checkpoint), checkpoint.signature) === 'ok';
    if (!valid) {
      invalid++;
      continue;
    }
    if (!latest || checkpoint.seq > latest.seq) latest = checkpoint;
  }
  return { latest, invalid };
}

/**
 * What the chain holds where the witness says it reached: the hash of entry `latest.seq` (null when absent),
 * the last seq, and the retention anchor (0 when none; for an export, the seq before its first entry).
 */
export interface ChainAtWitness {
  entryHash: string | null;
  lastSeq: number;
  anchorSeq: number;
}

/** The break the witness reveals, or undefined when the chain reaches the witnessed checkpoint intact. */
export function compareWithWitness(
  latest: SignedCheckpoint,
  chain: ChainAtWitness,
): VerifyReport['first_broken'] | undefined {
  if (latest.seq <= chain.anchorSeq) return undefined; // pruned by retention behind a signed anchor
  if (chain.lastSeq < latest.seq || chain.entryHash === null) {
    return {
      seq: latest.seq,
      reason: 'behind_witness',
      detail: `the witness holds a checkpoint at seq ${latest.seq} but the chain ends at ${chain.lastSeq}: entries were cut`,
    };
  }
  if (chain.entryHash !== latest.hash) {
    return {
      seq: latest.seq,
      reason: 'witness_mismatch',
      detail: `entry ${latest.seq} does not have the hash the witnessed checkpoint signed`,
    };
  }
  return undefined;
}
