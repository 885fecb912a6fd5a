import type { AuditEntryView } from '../../../libs/contracts/src/index.js';
import { invalid } from '../../core/errors/domain-error.js';
import type { StoredEntry } from './audit.repository.js';

/** An entry as the API returns it: exactly what the hash covers, plus its chain fields. */
export function toAuditEntryView(entry: StoredEntry): AuditEntryView {
  return {
    tenant_id: entry.tenant_id,
    seq: entry.seq,
    prev_hash: entry.prev_hash,
    hash: entry.hash,
    event: entry.event,
  };
}

/** Opaque keyset cursor over seq (newest first). */
export function encodeSeqCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ seq })).toString('base64url');
}

export function decodeSeqCursor(cursor: string): number {
  try {
    const { seq } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { seq: unknown };
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new Error();
    return seq;
  } catch {
    throw invalid('cursor', 'is not a cursor this API issued');
  }
}
