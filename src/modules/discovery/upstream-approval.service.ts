import { Injectable } from '@nestjs/common';
import type {
  ApprovalView,
  AutoApproveView,
  UpstreamApprovalState,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions } from '../../core/database/transactions.js';
import { invalid, notFound } from '../../core/errors/domain-error.js';
import { AuditService } from '../audit/audit.service.js';
import { scrubSecrets } from '../../../libs/redaction/src/index.js';
import { canonicalHostPattern, matchingHostPattern } from './host-patterns.js';
import { UpstreamApprovalRepository, type ApprovalRow } from './upstream-approval.repository.js';

/**
 * Approval of discovered upstreams (issue 16, item 4): a gateway routes only `approved` ones.
 * - An admin's explicit decision (`pending`, `approved`, `blocked`) wins, always, and is audited with who, when
 *   and why.
 * - Without one, an upstream whose URL host matches the tenant's auto-approve list is `approved`
 *   (decided by `auto-approve:<pattern>`); otherwise it is `pending`. Changing the list is audited.
 */
@Injectable()
export class UpstreamApprovalService {
  constructor(
    private readonly repository: UpstreamApprovalRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  /** A resolver of each upstream's approval for one discovery answer (two queries, whatever the count). */
  async resolver(tenantId: string): Promise<(name: string, url: string) => ApprovalView> {
    const [explicit, auto] = await Promise.all([
      this.repository.approvals(tenantId),
      this.repository.autoApprove(tenantId),
    ]);
    return (name, url) => resolve(name, url, explicit.get(name), auto?.hosts ?? []);
  }

  async get(principal: Principal, name: string): Promise<ApprovalView> {
    const url = await this.repository.registeredUrl(principal.tenantId, name);
    if (url === undefined) throw notFound('discovered upstream');
    const [explicit, auto] = await Promise.all([
      this.repository.approval(principal.tenantId, name),
      this.repository.autoApprove(principal.tenantId),
    ]);
    return resolve(name, url, explicit, auto?.hosts ?? []);
  }

  async set(
    principal: Principal,
    name: string,
    input: { state: UpstreamApprovalState; reason?: string },
  ): Promise<ApprovalView> {
    // A reason is free text that ends up in the ledger: a secret quoted in it is redacted like any other.
    const reason = input.reason === undefined ? null : scrubSecrets(input.reason).text;
    const row: ApprovalRow = {
      name,
      state: input.state,
      reason,
      decided_by: principal.subject,
      decided_at: new Date(),
    };
    await this.transactions.run(async (tx) => {
      const url = await this.repository.registeredUrl(principal.tenantId, name, tx);
      if (url === undefined) throw notFound('discovered upstream');
      await this.repository.setApproval(principal.tenantId, row, tx);
      await this.audit.record(
        principal,
        {
          type: 'gateway.upstream_approval_set',
          resource_type: 'upstream',
          resource_id: name,
          details: { state: row.state, reason, url },
        },
        tx,
      );
    });
    return view(row);
  }

  async autoApprove(principal: Principal): Promise<AutoApproveView> {
    const row = await this.repository.autoApprove(principal.tenantId);
    return {
      hosts: row?.hosts ?? [],
      updated_by: row?.updated_by ?? null,
      updated_at: row?.updated_at.toISOString() ?? null,
    };
  }

  async setAutoApprove(principal: Principal, hosts: string[]): Promise<AutoApproveView> {
    const canonical = hosts.map((text, i) => {
      const pattern = canonicalHostPattern(text);
      if (!pattern) {
        throw invalid(`hosts.${i}`, 'must be a host name, a "*.domain" wildcard or an IP literal');
      }
      return pattern;
    });
    const unique = [...new Set(canonical)].sort();
    const now = new Date();
    await this.transactions.run(async (tx) => {
      await this.repository.setAutoApprove(
        principal.tenantId,
        { hosts: unique, updated_by: principal.subject, updated_at: now },
        tx,
      );
      await this.audit.record(
        principal,
        {
          type: 'gateway.auto_approve_set',
          resource_type: 'tenant',
          resource_id: principal.tenantId,
          details: { hosts: unique },
        },
        tx,
      );
    });
    return { hosts: unique, updated_by: principal.subject, updated_at: now.toISOString() };
  }
}

function resolve(
  name: string,
  url: string,
  explicit: ApprovalRow | undefined,
  hosts: string[],
): ApprovalView {
  if (explicit) return view(explicit);
  const pattern = matchingHostPattern(url, hosts);
  if (pattern) {
    return { name, state: 'approved', reason: null, decided_by: `auto-approve:${pattern}`, decided_at: null };
  }
  return { name, state: 'pending', reason: null, decided_by: null, decided_at: null };
}

function view(row: ApprovalRow): ApprovalView {
  return {
    name: row.name,
    state: row.state,
    reason: row.reason,
    decided_by: row.decided_by,
    decided_at: row.decided_at.toISOString(),
  };
}
