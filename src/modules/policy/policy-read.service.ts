import { Injectable } from '@nestjs/common';
import type { PolicySummaryView, PolicyView } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { invalid } from '../../core/errors/domain-error.js';
import { decodeCursor, encodeCursor } from '../../core/http/cursor.js';
import { policyNotFound } from './policy.errors.js';
import { toPolicySummaryView, toPolicyView } from './policy.mapper.js';
import { PolicyRepository } from './policy.repository.js';

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Policy reads, all scoped to the principal's tenant: another tenant's policy does not exist (404). */
@Injectable()
export class PolicyReadService {
  constructor(private readonly policies: PolicyRepository) {}

  /** Live policies by name, without their documents (`rule_count` instead). */
  async list(
    principal: Principal,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<PolicySummaryView>> {
    const limit = query.limit ?? 50;
    let after: { name: string; id: string } | undefined;
    if (query.cursor) {
      const [name, id] = decodeCursor(query.cursor, ['string', 'uuid']) as [string, string];
      after = { name, id };
    }
    const rows = await this.policies.list(principal.tenantId, { limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toPolicySummaryView),
      next_cursor: rows.length > limit && last ? encodeCursor([last.name, last.id]) : null,
    };
  }

  /**
   * The current version (404 once deleted: the policy is gone, though its history stays readable), or any past
   * version, tombstone included, with `version`.
   */
  async get(principal: Principal, id: string, version?: number): Promise<PolicyView> {
    const record =
      version === undefined
        ? await this.policies.findCurrent(principal.tenantId, id)
        : await this.policies.findVersion(principal.tenantId, id, version);
    if (!record || (version === undefined && record.deleted)) throw policyNotFound();
    return toPolicyView(record);
  }

  /** A policy's versions, newest first, deleted policies included. */
  async versions(
    principal: Principal,
    id: string,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<PolicySummaryView>> {
    const limit = query.limit ?? 50;
    let before: number | undefined;
    if (query.cursor) {
      const [text] = decodeCursor(query.cursor, ['string']) as [string];
      if (!/^\d{1,9}$/.test(text)) throw invalid('cursor', 'is not a cursor this API issued');
      before = Number(text);
    }
    const rows = await this.policies.listVersions(principal.tenantId, id, { limit: limit + 1, before });
    if (rows.length === 0 && before === undefined) throw policyNotFound();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toPolicySummaryView),
      next_cursor: rows.length > limit && last ? encodeCursor([String(last.version)]) : null,
    };
  }
}
