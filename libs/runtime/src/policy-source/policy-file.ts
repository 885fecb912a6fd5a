import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import {
  compilePolicy,
  PolicyCompileError,
  type CompiledPolicy,
  type PolicyDocument,
} from '../../../policy/src/index.js';

/** Largest policy file read: a bigger one is refused before it is read, at start and on reload. */
export const MAX_POLICY_FILE_BYTES = 10 * 1024 * 1024;

/**
 * A policy source cannot give a policy it trusts: the message names the problem without the file or flag (the
 * caller prefixes `--policy FILE: `), and never quotes a credential.
 */
export class PolicySourceError extends Error {
  override name = 'PolicySourceError';
}

/** A compiled policy document and its identity: what every decision, audit event and `/healthz` names. */
export interface PolicySnapshot {
  readonly document: PolicyDocument;
  readonly compiled: CompiledPolicy;
  /** `sha256:<16 hex>` of a file's bytes, or a bundle's version number. */
  readonly version: string;
  readonly rules: number;
  readonly loadedAt: string;
}

/** Compiles a policy document; a `PolicyCompileError` becomes one readable line naming the first problems. */
export function compileSnapshot(document: unknown, version: string): PolicySnapshot {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(document);
  } catch (error) {
    if (error instanceof PolicyCompileError) {
      const problems = error.problems.slice(0, 5).map((p) => `${p.where}: ${p.message}`);
      throw new PolicySourceError(problems.join('; '), { cause: error });
    }
    throw error;
  }
  const policy = document as PolicyDocument;
  return {
    document: policy,
    compiled,
    version,
    rules: Array.isArray(policy.rules) ? policy.rules.length : 0,
    loadedAt: new Date().toISOString(),
  };
}

/**
 * Reads and compiles a policy file: JSON for `.json`, YAML otherwise (YAML reads JSON too, so a ConfigMap key
 * without an extension works).
 *
 * Guarantees: only a regular file (after symlinks, as Kubernetes mounts ConfigMaps) of at most `maxBytes` is read —
 * a directory, device or FIFO is refused without opening it (a FIFO would block the read for ever), and the size is
 * checked again on the open handle and bounded while reading, so a file that grows in between is refused too.
 */
export async function readPolicyFile(
  file: string,
  maxBytes = MAX_POLICY_FILE_BYTES,
): Promise<PolicySnapshot> {
  const text = await readBounded(file, maxBytes);
  const json = /\.json$/i.test(file);
  let document: unknown;
  try {
    // yaml is loaded only when needed: the proxy's start is on a desktop client's critical path.
    document = json ? JSON.parse(text) : (await import('yaml')).parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new PolicySourceError(
      `not valid ${json ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`,
    );
  }
  const version = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return compileSnapshot(document, version);
}

async function readBounded(file: string, maxBytes: number): Promise<string> {
  const limit = `larger than ${formatBytes(maxBytes)}`;
  let handle: fs.FileHandle | undefined;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new PolicySourceError('not a regular file');
    if (stat.size > maxBytes) throw new PolicySourceError(limit);
    // O_NONBLOCK: should the path become a FIFO after the check, the open does not wait for a writer.
    handle = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const opened = await handle.stat();
    if (!opened.isFile()) throw new PolicySourceError('not a regular file');
    if (opened.size > maxBytes) throw new PolicySourceError(limit);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1024 * 1024, maxBytes + 1));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new PolicySourceError(limit);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof PolicySourceError) throw error;
    throw new PolicySourceError(`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
