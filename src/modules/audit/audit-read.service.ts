import { Injectable } from '@nestjs/common';
import {
  DECISIONS,
  TREND_DAYS,
  type AuditEntryView,
  type AuditTrendsView,
  type Decision,
  type VerificationKeyView,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { invalid } from '../../core/errors/domain-error.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { AuditRepository, type EntryFilters } from './audit.repository.js';
import { decodeSeqCursor, encodeSeqCursor, toAuditEntryView } from './audit.mapper.js';
import type { ListAuditQuery, TrendsQuery } from './dto/query.dto.js';

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

  /** Runtime decisions per UTC day (every decision, zeros included) and open findings, the last `days` days. */
  async trends(principal: Principal, query: TrendsQuery, now = new Date()): Promise<AuditTrendsView> {
    const days = query.days ?? TREND_DAYS.default;
    const to = now.toISOString().slice(0, 10);
    const from = new Date(Date.parse(to) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const rows = await this.repository.trends(principal.tenantId, from, to);
    return {
      days,
      from,
      to,
      series: rows.map((row) => {
        const decisions = Object.fromEntries(DECISIONS.map((d) => [d, row.decisions[d] ?? 0])) as Record<
          Decision,
          number
        >;
        return {
          day: row.day,
          decisions,
          total: Object.values(decisions).reduce((sum, n) => sum + n, 0),
          open_findings: row.open_findings,
        };
      }),
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
