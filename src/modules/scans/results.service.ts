import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { severityRank } from '../../../libs/advisories/src/index.js';
import { SOURCE_ID_PATTERN, SOURCE_ID_RULE, type ScanSeverity } from '../../../libs/contracts/src/index.js';
import { redactArgs, sanitizeUrl, scrubSecrets } from '../../../libs/redaction/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions, Tx } from '../../core/database/transactions.js';
import { conflict, DomainError, invalid } from '../../core/errors/domain-error.js';
import { AuditService } from '../audit/audit.service.js';
import { graphOfScan } from '../graph/graph-build.js';
import { FleetEnrollmentService, PushRefused } from '../fleet/fleet-enrollment.service.js';
import { FleetSyncRepository } from '../fleet/fleet-sync.repository.js';
import { GraphRepository } from '../graph/graph.repository.js';
import { ResultsPushSchema, type ResultsPush } from './results-push.schema.js';
import { remoteUpstreams } from './scan-upstreams.js';
import { ScansRepository, type FindingRow } from './scans.repository.js';

const IDEMPOTENCY_SCOPE = 'results.push';

export interface ResultsPushAnswer {
  scan_id: string;
  source_id: string;
  status: 'stored';
  findings: { reported: number; new: number; reopened: number; resolved: number };
  idempotent_replay?: boolean;
}

/**
 * `POST /v1/results/push`: stores one `agent-bom scan` result and folds its findings into the tenant's current
 * findings for that source, in one transaction with its audit record. Re-sending with the same
 * Idempotency-Key replays the first answer; the same scan id without a key is a 409 (no double counting).
 */
@Injectable()
export class ResultsService {
  constructor(
    private readonly repository: ScansRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly graph: GraphRepository,
    private readonly enrollment: FleetEnrollmentService,
    private readonly fleet: FleetSyncRepository,
  ) {}

  /** A report, admitted like a fleet sync by endpoint enrollment; a refused push writes nothing but its audit. */
  async push(principal: Principal, body: unknown, idempotencyKey?: string): Promise<ResultsPushAnswer> {
    try {
      return await this.write(principal, body, idempotencyKey);
    } catch (error) {
      if (error instanceof PushRefused) await this.enrollment.recordRefusal(principal, error);
      throw error;
    }
  }

  private async write(
    principal: Principal,
    body: unknown,
    idempotencyKey?: string,
  ): Promise<ResultsPushAnswer> {
    if (idempotencyKey !== undefined && !SOURCE_ID_PATTERN.test(idempotencyKey)) {
      throw invalid('Idempotency-Key', SOURCE_ID_RULE);
    }
    const report = checkReport(body);
    const requestHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const now = new Date();
    const tenantId = principal.tenantId;

    this.enrollment.checkBinding(principal, report.source_id);
    return this.transactions.run(async (tx) => {
      await this.enrollment.admitReport(principal, report.source_id, tx);
      if (idempotencyKey) {
        await this.repository.lockIdempotencyKey(tenantId, IDEMPOTENCY_SCOPE, idempotencyKey, tx);
        const earlier = await this.repository.findIdempotent(tenantId, IDEMPOTENCY_SCOPE, idempotencyKey, tx);
        if (earlier) {
          if (earlier.requestHash !== requestHash)
            throw conflict('this Idempotency-Key was already used with a different request body');
          return { ...(earlier.response as ResultsPushAnswer), idempotent_replay: true };
        }
      }
      const answer = await this.store(principal, report, 'pushed', now, tx);
      if (idempotencyKey)
        await this.repository.saveIdempotent(
          tenantId,
          IDEMPOTENCY_SCOPE,
          idempotencyKey,
          requestHash,
          answer,
          tx,
        );
      await this.audit.record(
        principal,
        {
          type: 'scan.results_pushed',
          resource_type: 'scan',
          resource_id: report.scan_id,
          details: {
            source_id: report.source_id,
            findings: answer.findings.reported,
            new: answer.findings.new,
            resolved: answer.findings.resolved,
          },
        },
        tx,
      );
      return answer;
    });
  }

  /**
   * Folds one scan report into the tenant's scans, findings and graph (inside `tx`): used by the push route and by
   * control-plane scan jobs, so both produce findings and graph the same way. Audited as `principal`.
   *
   * Its remote servers become the source's contribution to discovery (`scan_upstreams`), each (name, url) pair
   * named by the same registry and rule as a fleet sync's (`registerUpstreams` of {@link FleetSyncRepository}), so a
   * scan and a sync of one URL are one upstream with one approval. `discovery: false` is for control-plane jobs
   * over the fleet inventory, whose servers discovery already has from the fleet.
   */
  async store(
    principal: Principal,
    report: ResultsPush,
    kind: 'pushed' | 'job',
    now: Date,
    tx: Tx,
    options: { discovery?: boolean } = {},
  ): Promise<ResultsPushAnswer> {
    await this.repository.lockSource(principal.tenantId, report.source_id, tx);
    const inserted = await this.repository.insertScan(
      principal.tenantId,
      {
        kind,
        id: report.scan_id,
        source_id: report.source_id,
        triggered_by: `${principal.subject}:${report.source_id}`,
        created_at: now,
        summary: summarise(report),
        report,
      },
      tx,
    );
    if (!inserted) throw new DomainError('CONFLICT', `scan ${report.scan_id} was already pushed`);
    const rows: FindingRow[] = report.findings.map((f) => ({
      id: f.id,
      kind: f.kind,
      severity: f.severity,
      severity_rank: severityRank(f.severity as ScanSeverity),
      title: f.title,
      subject: f.subject,
      advisory_id: f.advisory_id ?? null,
      fixed_version: f.fixed_version ?? null,
      cvss_score: f.cvss_score ?? null,
      servers: f.servers,
      credentials: f.credentials,
      locations: f.locations,
    }));
    const counts = await this.repository.upsertFindings(
      principal.tenantId,
      report.source_id,
      report.scan_id,
      rows,
      now,
      tx,
    );
    const resolved = await this.repository.resolveMissing(
      principal.tenantId,
      report.source_id,
      report.scan_id,
      now,
      tx,
    );
    const { nodes, edges } = graphOfScan(report);
    await this.graph.replaceSource(principal.tenantId, report.source_id, nodes, edges, tx);
    if (options.discovery !== false) {
      const upstreams = remoteUpstreams(report);
      await this.fleet.within(tx, principal.tenantId).registerUpstreams(upstreams, now);
      await this.repository.replaceUpstreams(
        principal.tenantId,
        report.source_id,
        report.scan_id,
        upstreams,
        now,
        tx,
      );
    }
    return {
      scan_id: report.scan_id,
      source_id: report.source_id,
      status: 'stored',
      findings: { reported: rows.length, new: counts.new, reopened: counts.reopened, resolved },
    };
  }
}

/** Validates a scan report (pushed, or built by a control-plane job) and applies {@link sanitise}. */
export function checkReport(body: unknown): ResultsPush {
  const parsed = ResultsPushSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(issue.path.join('.') || 'body', issue.message);
  }
  return sanitise(parsed.data);
}

/**
 * Server-side redaction, whatever the client did (the same libs/redaction the CLI and fleet sync use): duplicate
 * findings refused; command and args re-redacted; URLs stripped of userinfo and secret-looking query values; every
 * free-text field and every string inside the open-ended objects (endpoint, summary, introspection) scrubbed.
 * Credential VALUES never reach storage.
 */
function sanitise(report: ResultsPush): ResultsPush {
  const ids = new Set<string>();
  report.findings.forEach((f, i) => {
    if (ids.has(f.id)) throw invalid(`findings.${i}.id`, `duplicate finding id ${f.id}`);
    ids.add(f.id);
  });
  const text = (value: string) => scrubSecrets(value).text;
  return {
    ...report,
    ...(report.endpoint ? { endpoint: scrubDeep(report.endpoint) as Record<string, unknown> } : {}),
    summary: scrubDeep(report.summary) as Record<string, unknown>,
    warnings: report.warnings?.map((w) => ({ path: text(w.path), message: text(w.message) })),
    agents: report.agents.map((agent) => ({
      ...agent,
      ...(agent.config_paths ? { config_paths: agent.config_paths.map(text) } : {}),
      servers: agent.servers.map((server) => ({
        ...server,
        ...(server.command !== undefined ? { command: redactArgs([server.command]).args[0] } : {}),
        ...(server.args ? { args: redactArgs(server.args).args } : {}),
        ...(server.url !== undefined ? { url: sanitizeUrl(server.url)?.url ?? '[invalid url]' } : {}),
        config_path: text(server.config_path),
        ...(server.project_path !== undefined ? { project_path: text(server.project_path) } : {}),
        ...(server.introspection !== undefined ? { introspection: scrubDeep(server.introspection) } : {}),
      })),
    })),
    packages: report.packages.map((p) => ({ ...p, origins: p.origins.map(text) })),
    findings: report.findings.map((f) => ({
      ...f,
      title: text(f.title),
      subject: text(f.subject),
      locations: f.locations.map(text),
    })),
  };
}

/** Every string in a JSON value scrubbed (keys too); the schema has already bounded its size and depth. */
function scrubDeep(value: unknown): unknown {
  if (typeof value === 'string') return scrubSecrets(value).text;
  if (Array.isArray(value)) return value.map(scrubDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubSecrets(k).text, scrubDeep(v)]));
  }
  return value;
}

function summarise(report: ResultsPush) {
  const bySeverity: Record<string, number> = { none: 0, low: 0, medium: 0, high: 0, critical: 0 };
  for (const f of report.findings) bySeverity[f.severity]++;
  return {
    agents: report.agents.length,
    servers: report.agents.reduce((n, a) => n + a.servers.length, 0),
    packages: report.packages.length,
    vulnerable_packages: new Set(
      report.findings.filter((f) => f.kind === 'vulnerability').map((f) => f.subject),
    ).size,
    findings: bySeverity,
  };
}
