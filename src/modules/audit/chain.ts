import { createHash } from 'node:crypto';
import type { CheckpointStatement } from '../../../libs/contracts/src/index.js';

/**
 * The audit hash chain's primitives, as a third party re-implements them (docs/audit.md): canonical JSON, the
 * entry hash and the bytes a checkpoint signs. Pure: no Nest, no database. The verifier is in chain-verifier.ts.
 */

/** prev_hash of seq 1. */
export const GENESIS_HASH = '0'.repeat(64);
export const CHECKPOINT_FORMAT = 'agent-bom.audit.checkpoint/v1';

/**
 * Canonical JSON (RFC 8785 for the values the ledger holds): object keys sorted by UTF-16 code units, no
 * whitespace, strings escaped as JSON.stringify does, numbers only as safe integers, `undefined` members dropped.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError('canonical JSON holds safe integers only');
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** hash = SHA-256(canonical_json({tenant_id, seq, prev_hash, event})), lower-case hex. */
export function entryHash(tenantId: string, seq: number, prevHash: string, event: unknown): string {
  return sha256Hex(canonicalJson({ tenant_id: tenantId, seq, prev_hash: prevHash, event }));
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointPayload(statement: CheckpointStatement): string {
  const { format, tenant_id, seq, hash, purpose, signed_at, key_id } = statement;
  return canonicalJson({ format, tenant_id, seq, hash, purpose, signed_at, key_id });
}

export interface ChainEntry {
  tenant_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
  event: unknown;
}
