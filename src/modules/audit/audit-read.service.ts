import { Injectable } from '@nestjs/common';
import type { AuditEntryView, VerificationKeyView } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { invalid } from '../../core/errors/domain-error.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { AuditRepository, type EntryFilters } from './audit.repository.js';
import { decodeSeqCursor, encodeSeqCursor, toAuditEntryView } from './audit.mapper.js';
import type { ListAuditQuery } from './dto/query.dto.js';

/** Reading the ledger: filtered pages (newest first) and the public keys that verify it. */
@Injectable()
export class AuditReadService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly signing: SigningKeys,
  ) {}

  async list(
    principal: Principal,
    query: ListAuditQuery,
  ): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 100;
    const filters: EntryFilters = {
      type: query.type,
      origin: query.origin,
      agent: query.agent,
      tool: query.tool,
      decision: query.decision,
      traceId: query.trace_id,
      since: query.since && utc('since', query.since),
      until: query.until && utc('until', query.until),
    };
    const before = query.cursor ? decodeSeqCursor(query.cursor) : undefined;
    const rows = await this.repository.list(principal.tenantId, filters, before, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toAuditEntryView),
      next_cursor: rows.length > limit ? encodeSeqCursor(page[page.length - 1].seq) : null,
    };
  }

  verificationKeys(): { algorithm: 'Ed25519'; current_key_id: string; keys: VerificationKeyView[] } {
    return {
      algorithm: 'Ed25519',
      current_key_id: this.signing.currentKeyId,
      keys: this.signing.publicKeys(),
    };
  }
}

/** Event times are stored as UTC ISO strings with milliseconds, so a normalised bound compares as text. */
function utc(field: string, value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalid(field, 'is not a valid date');
  return date.toISOString();
}
