import { Injectable } from '@nestjs/common';
import type {
  FindingDetailView,
  FindingView,
  RemediationPlanView,
  TriageResultView,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions } from '../../core/database/transactions.js';
import { invalid, notFound } from '../../core/errors/domain-error.js';
import { decodeCursor, encodeCursor } from '../../core/http/cursor.js';
import { AuditService } from '../audit/audit.service.js';
import type { FindingsQuery, TriageDto } from './dto/findings-query.dto.js';
import { remediationPlan } from './remediation.js';
import { riskScore } from './risk.js';
import { ScansRepository, type StoredFinding } from './scans.repository.js';

const FINDING_ID = /^f_[0-9a-f]{24}$/;

function iso(d: Date): string;
function iso(d: Date | null): string | null;
function iso(d: Date | null) {
  return d ? new Date(d).toISOString() : null;
}

function findingView(f: StoredFinding): FindingView {
  return {
    id: f.id,
    source_id: f.source_id,
    kind: f.kind,
    severity: f.severity,
    risk_score: riskScore(f),
    title: f.title,
    subject: f.subject,
    advisory_id: f.advisory_id,
    fixed_version: f.fixed_version,
    cvss_score: f.cvss_score,
    servers: f.servers,
    credentials: f.credentials,
    locations: f.locations,
    status: f.resolved_at ? 'resolved' : 'open',
    first_seen: iso(f.first_seen),
    last_seen: iso(f.last_seen),
    resolved_at: iso(f.resolved_at),
    first_scan_id: f.first_scan_id,
    last_scan_id: f.last_scan_id,
    triage: {
      state: f.triage,
      reason: f.triage_reason,
      expires_at: iso(f.triage_expires_at),
      by: f.triaged_by,
      at: iso(f.triaged_at),
    },
  };
}

/** Reads of scans and findings, triage, remediation. Every call is scoped to the principal's tenant. */
@Injectable()
export class ScansReadService {
  constructor(
    private readonly repository: ScansRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  async getScan(principal: Principal, id: string) {
    const scan = await this.repository.getScan(principal.tenantId, id);
    if (!scan) throw notFound('scan');
    return {
      id: scan.id,
      kind: scan.kind,
      status: scan.status,
      source_id: scan.source_id,
      triggered_by: scan.triggered_by,
      created_at: iso(scan.created_at),
      completed_at: iso(scan.completed_at),
      summary: scan.summary,
      result: scan.report,
    };
  }

  async findings(
    principal: Principal,
    query: FindingsQuery,
  ): Promise<{ items: FindingView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    let after: { rank: number; lastSeen: Date; sourceId: string; id: string } | undefined;
    if (query.cursor) {
      const [rank, lastSeen, sourceId, id] = decodeCursor(query.cursor, [
        'string',
        'date',
        'string',
        'string',
      ]);
      if (!/^[0-4]$/.test(rank as string)) throw invalid('cursor', 'is not a cursor this API issued');
      after = {
        rank: Number(rank),
        lastSeen: lastSeen as Date,
        sourceId: sourceId as string,
        id: id as string,
      };
    }
    const rows = await this.repository.listFindings(principal.tenantId, {
      ...query,
      limit: limit + 1,
      after,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(findingView),
      next_cursor:
        rows.length > limit && last
          ? encodeCursor([String(last.severity_rank), last.last_seen, last.source_id, last.id])
          : null,
    };
  }

  /** A finding id that is malformed or not in the caller's tenant is the same 404: nothing to tell apart. */
  async finding(principal: Principal, id: string): Promise<FindingDetailView> {
    const rows = FINDING_ID.test(id) ? await this.repository.findingById(principal.tenantId, id) : [];
    if (!rows.length) throw notFound('finding');
    return { id, items: rows.map(findingView) };
  }

  async triage(principal: Principal, id: string, body: TriageDto): Promise<TriageResultView> {
    if (!FINDING_ID.test(id)) throw invalid('id', 'must be a finding id (f_ + 24 hex)');
    if (body.state !== 'open' && !body.reason) throw invalid('reason', `is required for ${body.state}`);
    if (body.expires_at && body.state !== 'accepted_risk')
      throw invalid('expires_at', 'applies to accepted_risk only');
    const expiresAt = body.expires_at ? new Date(body.expires_at) : null;
    if (expiresAt && expiresAt <= new Date()) throw invalid('expires_at', 'must be in the future');
    return this.transactions.run(async (tx) => {
      const changed = await this.repository.setTriage(
        principal.tenantId,
        id,
        body.source_id,
        { state: body.state, reason: body.reason ?? null, expiresAt, by: principal.subject, at: new Date() },
        tx,
      );
      if (!changed.length) throw notFound('finding');
      await this.audit.record(
        principal,
        {
          type: 'finding.triaged',
          resource_type: 'finding',
          resource_id: id,
          details: { state: body.state, previous: changed[0].previous, endpoints: changed.length },
        },
        tx,
      );
      return { id, state: body.state, updated: changed.length };
    });
  }

  async scanRemediation(principal: Principal, id: string): Promise<RemediationPlanView> {
    const scan = await this.repository.getScan(principal.tenantId, id);
    if (!scan) throw notFound('scan');
    const plan = remediationPlan(await this.repository.findingsOfScan(principal.tenantId, id));
    return { scan_id: id, remediation_plan: plan, total: plan.length };
  }

  async tenantRemediation(principal: Principal): Promise<RemediationPlanView> {
    const findings = await this.repository.listFindings(principal.tenantId, {
      status: 'open',
      kind: ['vulnerability'],
      limit: 10_000,
    });
    const plan = remediationPlan(findings);
    return { remediation_plan: plan, total: plan.length };
  }
}
