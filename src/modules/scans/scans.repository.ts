import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, type Tx } from '../../core/database/transactions.js';
import type { ScanUpstream } from './scan-upstreams.js';

export interface ScanRow {
  id: string;
  source_id: string;
  triggered_by: string;
  kind?: 'pushed' | 'job';
  created_at: Date;
  summary: unknown;
  report: unknown;
}

export interface FindingRow {
  id: string;
  kind: string;
  severity: string;
  severity_rank: number;
  title: string;
  subject: string;
  advisory_id: string | null;
  fixed_version: string | null;
  cvss_score: number | null;
  servers: string[];
  credentials: string[];
  locations: string[];
}

export interface StoredFinding extends FindingRow {
  source_id: string;
  first_seen: Date;
  last_seen: Date;
  resolved_at: Date | null;
  first_scan_id: string;
  last_scan_id: string;
  triage: string;
  triage_reason: string | null;
  triage_expires_at: Date | null;
  triaged_by: string | null;
  triaged_at: Date | null;
}

export interface FindingFilter {
  status?: 'open' | 'resolved' | 'all';
  severity?: string[];
  kind?: string[];
  triage?: string[];
  source_id?: string;
  scan_id?: string;
  q?: string;
  limit: number;
  after?: { rank: number; lastSeen: Date; sourceId: string; id: string };
}

/** Scans and findings; every method is scoped by the tenant it takes first. */
@Injectable()
export class ScansRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Serialises the reports of one source until commit: each folds into the same findings (first/last seen,
   * resolution) and graph edges, so two at once (two scan jobs of a tenant, a job beside a push) would race on them.
   */
  async lockSource(tenantId: string, sourceId: string, tx: Tx): Promise<void> {
    await tx.manager.query(
      `SELECT pg_advisory_xact_lock(hashtext($1), hashtext('scan-source' || chr(31) || $2))`,
      [tenantId, sourceId],
    );
  }

  async lockIdempotencyKey(tenantId: string, scope: string, key: string, tx: Tx): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2 || chr(31) || $3))`, [
      tenantId,
      scope,
      key,
    ]);
  }

  async findIdempotent(
    tenantId: string,
    scope: string,
    key: string,
    tx: Tx,
  ): Promise<{ requestHash: string; response: unknown } | null> {
    const rows = (await tx.manager.query(
      `SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
      [tenantId, scope, key],
    )) as Array<{ request_hash: string; response: unknown }>;
    return rows[0] ? { requestHash: rows[0].request_hash, response: rows[0].response } : null;
  }

  async saveIdempotent(
    tenantId: string,
    scope: string,
    key: string,
    requestHash: string,
    response: unknown,
    tx: Tx,
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, response) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, scope, key, requestHash, JSON.stringify(response)],
    );
  }

  /**
   * Replaces the remote servers discovery takes from this source's scans with those of its newest one (`rows`
   * may be empty: the source reports no remote server any more; one row per (name, url)). One statement: rows no
   * longer reported are deleted, the others upserted, so a scan that reports what the last one did only moves
   * `scan_id` and `seen_at`, which the discovery triggers ignore (discovered answers stay cached).
   */
  async replaceUpstreams(
    tenantId: string,
    sourceId: string,
    scanId: string,
    rows: ScanUpstream[],
    now: Date,
    tx: Tx,
  ): Promise<void> {
    await tx.manager.query(
      `WITH reported AS (
         SELECT * FROM jsonb_to_recordset($5::jsonb) AS r(name text, url text, transport text, agent text)
       ),
       gone AS (
         DELETE FROM scan_upstreams s
          WHERE s.tenant_id = $1 AND s.source_id = $2
            AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.name = s.name AND r.url = s.url)
       )
       INSERT INTO scan_upstreams (tenant_id, source_id, name, url, transport, agent, scan_id, seen_at)
       SELECT $1, $2, r.name, r.url, r.transport, r.agent, $3, $4 FROM reported r
       ON CONFLICT (tenant_id, source_id, name, url) DO UPDATE SET
         transport = EXCLUDED.transport, agent = EXCLUDED.agent, scan_id = EXCLUDED.scan_id,
         seen_at = EXCLUDED.seen_at`,
      [tenantId, sourceId, scanId, now, JSON.stringify(rows)],
    );
  }

  /** False when the tenant already has a scan with this id (a re-push without an idempotency key). */
  async insertScan(tenantId: string, row: ScanRow, tx: Tx): Promise<boolean> {
    const rows = (await tx.manager.query(
      `INSERT INTO scans (tenant_id, id, kind, status, source_id, triggered_by, created_at, completed_at, summary, report)
       VALUES ($1, $2, $8, 'done', $3, $4, $5, $5, $6, $7)
       ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`,
      [
        tenantId,
        row.id,
        row.source_id,
        row.triggered_by,
        row.created_at,
        JSON.stringify(row.summary),
        JSON.stringify(row.report),
        row.kind ?? 'pushed',
      ],
    )) as unknown[];
    return rows.length === 1;
  }

  /**
   * Upserts the scan's findings for (tenant, source): new ones start open, seen ones get `last_seen`, resolved
   * ones reopen. Returns how many were new and how many reopened.
   */
  async upsertFindings(
    tenantId: string,
    sourceId: string,
    scanId: string,
    findings: FindingRow[],
    now: Date,
    tx: Tx,
  ): Promise<{ new: number; reopened: number }> {
    if (!findings.length) return { new: 0, reopened: 0 };
    const rows = (await tx.manager.query(
      `INSERT INTO findings AS f (tenant_id, source_id, id, kind, severity, severity_rank, title, subject, advisory_id,
              fixed_version, cvss_score, servers, credentials, locations, first_seen, last_seen, first_scan_id, last_scan_id)
       SELECT $1, $2, r->>'id', r->>'kind', r->>'severity', (r->>'severity_rank')::smallint, r->>'title', r->>'subject',
              r->>'advisory_id', r->>'fixed_version', (r->>'cvss_score')::numeric,
              ARRAY(SELECT jsonb_array_elements_text(r->'servers')), ARRAY(SELECT jsonb_array_elements_text(r->'credentials')),
              ARRAY(SELECT jsonb_array_elements_text(r->'locations')), $3, $3, $4, $4
         FROM jsonb_array_elements($5::jsonb) AS r
       ON CONFLICT (tenant_id, source_id, id) DO UPDATE SET
              severity = EXCLUDED.severity, severity_rank = EXCLUDED.severity_rank, title = EXCLUDED.title,
              fixed_version = EXCLUDED.fixed_version, cvss_score = EXCLUDED.cvss_score, servers = EXCLUDED.servers,
              credentials = EXCLUDED.credentials, locations = EXCLUDED.locations, last_seen = EXCLUDED.last_seen,
              last_scan_id = EXCLUDED.last_scan_id, resolved_at = NULL
       RETURNING (xmax = 0) AS inserted, (SELECT resolved_at IS NOT NULL FROM findings o
                    WHERE o.tenant_id = f.tenant_id AND o.source_id = f.source_id AND o.id = f.id) AS was_resolved`,
      [tenantId, sourceId, now, scanId, JSON.stringify(findings)],
    )) as Array<{ inserted: boolean; was_resolved: boolean | null }>;
    return {
      new: rows.filter((r) => r.inserted).length,
      reopened: rows.filter((r) => !r.inserted && r.was_resolved).length,
    };
  }

  /** Marks the source's open findings that this scan no longer reports as resolved. */
  async resolveMissing(
    tenantId: string,
    sourceId: string,
    scanId: string,
    now: Date,
    tx: Tx,
  ): Promise<number> {
    const rows = (await tx.manager.query(
      // A CTE, because the driver answers a bare UPDATE … RETURNING with [rows, count] rather than rows.
      `WITH resolved AS (
         UPDATE findings SET resolved_at = $4
          WHERE tenant_id = $1 AND source_id = $2 AND resolved_at IS NULL AND last_scan_id <> $3 RETURNING id)
       SELECT id FROM resolved`,
      [tenantId, sourceId, scanId, now],
    )) as unknown[];
    return rows.length;
  }

  async getScan(
    tenantId: string,
    id: string,
  ): Promise<(ScanRow & { kind: string; status: string; completed_at: Date | null }) | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT id, kind, status, source_id, triggered_by, created_at, completed_at, summary, report FROM scans WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    )) as Array<ScanRow & { kind: string; status: string; completed_at: Date | null }>;
    return rows[0];
  }

  async listFindings(tenantId: string, filter: FindingFilter): Promise<StoredFinding[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replaceAll('?', `$${params.length}`));
    };
    if (filter.status === 'open' || filter.status === undefined) where.push('resolved_at IS NULL');
    if (filter.status === 'resolved') where.push('resolved_at IS NOT NULL');
    if (filter.severity?.length) add('severity = ANY(?::text[])', filter.severity);
    if (filter.kind?.length) add('kind = ANY(?::text[])', filter.kind);
    if (filter.triage?.length) add('triage = ANY(?::text[])', filter.triage);
    if (filter.source_id) add('source_id = ?', filter.source_id);
    if (filter.scan_id) add('last_scan_id = ?::uuid', filter.scan_id);
    if (filter.q)
      add(
        `(title ILIKE ? ESCAPE '\\' OR subject ILIKE ? ESCAPE '\\' OR advisory_id ILIKE ? ESCAPE '\\')`,
        `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      );
    if (filter.after) {
      params.push(filter.after.rank, filter.after.lastSeen, filter.after.sourceId, filter.after.id);
      const n = params.length;
      where.push(
        `(severity_rank, last_seen, source_id, id) < ($${n - 3}::smallint, $${n - 2}::timestamptz, $${n - 1}, $${n})`,
      );
    }
    params.push(filter.limit);
    return (await this.dataSource.query(
      `SELECT source_id, id, kind, severity, severity_rank, title, subject, advisory_id, fixed_version,
              cvss_score::float AS cvss_score, servers, credentials, locations, first_seen, last_seen, resolved_at,
              first_scan_id, last_scan_id, triage, triage_reason, triage_expires_at, triaged_by, triaged_at
         FROM findings WHERE ${where.join(' AND ')}
        ORDER BY severity_rank DESC, last_seen DESC, source_id DESC, id DESC LIMIT $${params.length}`,
      params,
    )) as StoredFinding[];
  }

  /** One finding id on every endpoint that reports it: open first, then by severity and last seen. */
  async findingById(tenantId: string, id: string): Promise<StoredFinding[]> {
    return (await this.dataSource.query(
      `SELECT source_id, id, kind, severity, severity_rank, title, subject, advisory_id, fixed_version,
              cvss_score::float AS cvss_score, servers, credentials, locations, first_seen, last_seen, resolved_at,
              first_scan_id, last_scan_id, triage, triage_reason, triage_expires_at, triaged_by, triaged_at
         FROM findings WHERE tenant_id = $1 AND id = $2
        ORDER BY resolved_at IS NOT NULL, severity_rank DESC, last_seen DESC, source_id`,
      [tenantId, id],
    )) as StoredFinding[];
  }

  /** Findings of one scan (those it reported: their last scan is this one, or they were first seen in it). */
  async findingsOfScan(tenantId: string, scanId: string): Promise<StoredFinding[]> {
    return (await this.dataSource.query(
      `SELECT source_id, id, kind, severity, severity_rank, title, subject, advisory_id, fixed_version,
              cvss_score::float AS cvss_score, servers, credentials, locations, first_seen, last_seen, resolved_at,
              first_scan_id, last_scan_id, triage, triage_reason, triage_expires_at, triaged_by, triaged_at
         FROM findings WHERE tenant_id = $1 AND last_scan_id = $2`,
      [tenantId, scanId],
    )) as StoredFinding[];
  }

  async setTriage(
    tenantId: string,
    id: string,
    sourceId: string | undefined,
    triage: { state: string; reason: string | null; expiresAt: Date | null; by: string; at: Date },
    tx: Tx,
  ): Promise<Array<{ source_id: string; id: string; previous: string }>> {
    return (await managerOf(this.dataSource, tx).query(
      `WITH changed AS (
         UPDATE findings f SET triage = $4, triage_reason = $5, triage_expires_at = $6, triaged_by = $7, triaged_at = $8
           FROM findings o
          WHERE f.tenant_id = $1 AND f.id = $2 AND ($3::text IS NULL OR f.source_id = $3)
            AND o.tenant_id = f.tenant_id AND o.source_id = f.source_id AND o.id = f.id
          RETURNING f.source_id, f.id, o.triage AS previous)
       SELECT * FROM changed`,
      [tenantId, id, sourceId ?? null, triage.state, triage.reason, triage.expiresAt, triage.by, triage.at],
    )) as Array<{ source_id: string; id: string; previous: string }>;
  }
}
