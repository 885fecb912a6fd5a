import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FleetAgent } from '../../../../libs/contracts/src/index.js';

export type ScanJobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TERMINAL_STATUSES: readonly ScanJobStatus[] = ['done', 'failed', 'cancelled'];

export interface ScanJobStep {
  step: string;
  done: number;
  total: number;
  at: string;
}

export interface ScanJobRow {
  id: string;
  tenant_id: string;
  status: ScanJobStatus;
  trigger: 'api' | 'schedule';
  requested_by: string;
  boss_job_id: string;
  attempts: number;
  worker: string | null;
  step: string | null;
  progress: ScanJobStep[];
  error: string | null;
  summary: unknown;
  created_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
}

export type ClaimResult = 'claimed' | 'busy' | 'elsewhere' | 'finished';

const COLUMNS = `id, tenant_id, status, trigger, requested_by, boss_job_id, attempts, worker, step, progress, error,
  summary, created_at, started_at, heartbeat_at, finished_at`;

/** Scan job records, schedules, and the fleet inventory a job scans; every query scoped by tenant. */
@Injectable()
export class ScanJobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * pg-boss's connection: the app's own pg pool (one pool per process, embedded PostgreSQL included). pg-boss's
   * multi-statement maintenance commands run without parameters, so pg sends them as one simple query.
   */
  queueConnection(): { executeSql(text: string, values: unknown[]): Promise<{ rows: never[] }> } {
    const pool = (this.dataSource.driver as unknown as { master: PgPool }).master;
    return { executeSql: (text, values) => pool.query(text, values) as Promise<{ rows: never[] }> };
  }

  async insert(
    tenantId: string,
    row: {
      id: string;
      trigger: 'api' | 'schedule';
      requested_by: string;
      boss_job_id: string;
      created_at: Date;
    },
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO scan_jobs (tenant_id, id, status, trigger, requested_by, boss_job_id, created_at)
       VALUES ($1, $2, 'queued', $3, $4, $5, $6)`,
      [tenantId, row.id, row.trigger, row.requested_by, row.boss_job_id, row.created_at],
    );
  }

  async get(tenantId: string, id: string): Promise<ScanJobRow | null> {
    const rows = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM scan_jobs WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    )) as ScanJobRow[];
    return rows[0] ?? null;
  }

  async status(tenantId: string, id: string): Promise<ScanJobStatus | null> {
    const rows = (await this.dataSource.query(
      `SELECT status FROM scan_jobs WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    )) as Array<{ status: ScanJobStatus }>;
    return rows[0]?.status ?? null;
  }

  /**
   * Takes a run slot for the job, under a per-tenant transaction lock so two replicas never both see a free
   * slot: `busy` when the tenant already runs `limit` jobs (live heartbeats), `elsewhere` when this job's own
   * row is running with a live heartbeat on another worker (a pg-boss retry after expiry while the first run
   * is alive), `finished` when it is cancelled or done. Times are `clock_timestamp()`: the lock may be waited
   * for, and `now()` would be the transaction's start, before the previous holder finished.
   */
  async claim(
    tenantId: string,
    id: string,
    worker: string,
    limit: number,
    staleSeconds: number,
  ): Promise<ClaimResult> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('agent_bom.scan_jobs'), hashtext($1))`, [
        tenantId,
      ]);
      const own = (await manager.query(
        `SELECT status, worker, heartbeat_at > clock_timestamp() - make_interval(secs => $3) AS live
           FROM scan_jobs WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id, staleSeconds],
      )) as Array<{ status: ScanJobStatus; worker: string | null; live: boolean | null }>;
      const row = own[0];
      if (!row || TERMINAL_STATUSES.includes(row.status)) return 'finished';
      if (row.status === 'running' && row.live && row.worker !== worker) return 'elsewhere';
      const running = (await manager.query(
        `SELECT count(*)::int AS n FROM scan_jobs
          WHERE tenant_id = $1 AND status = 'running' AND id <> $2
            AND heartbeat_at > clock_timestamp() - make_interval(secs => $3)`,
        [tenantId, id, staleSeconds],
      )) as Array<{ n: number }>;
      if (running[0].n >= limit) return 'busy';
      await manager.query(
        `UPDATE scan_jobs SET status = 'running', worker = $3, attempts = attempts + 1,
                started_at = COALESCE(started_at, clock_timestamp()), heartbeat_at = clock_timestamp(), error = NULL
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id, worker],
      );
      return 'claimed';
    });
  }

  /** Re-points a deferred job at its new pg-boss job (for cancel). */
  async requeue(tenantId: string, id: string, bossJobId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE scan_jobs SET boss_job_id = $3 WHERE tenant_id = $1 AND id = $2 AND status IN ('queued','running')`,
      [tenantId, id, bossJobId],
    );
  }

  /** Records a step and refreshes the heartbeat; answers the job's status (a cancel shows up here). */
  async progress(
    tenantId: string,
    id: string,
    worker: string,
    step: ScanJobStep | null,
  ): Promise<ScanJobStatus | null> {
    const rows = (await this.dataSource.query(
      `UPDATE scan_jobs SET heartbeat_at = now(),
              step = COALESCE($4, step),
              progress = CASE WHEN $5::jsonb IS NULL THEN progress
                              WHEN jsonb_array_length(progress) > 0 AND progress->-1->>'step' = $4
                                THEN (progress - -1) || jsonb_build_array($5::jsonb)
                              ELSE progress || jsonb_build_array($5::jsonb) END
        WHERE tenant_id = $1 AND id = $2 AND worker = $3 AND status = 'running'
        RETURNING status`,
      [tenantId, id, worker, step?.step ?? null, step ? JSON.stringify(step) : null],
    )) as [Array<{ status: ScanJobStatus }>, number];
    const updated = rows[0];
    if (updated.length) return updated[0].status;
    return this.status(tenantId, id);
  }

  /** Ends a run this worker holds; a cancelled job stays cancelled. Returns false when the row was not ours. */
  async finish(
    tenantId: string,
    id: string,
    worker: string,
    outcome: { status: 'done' | 'failed' | 'queued'; error?: string; summary?: unknown },
  ): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `UPDATE scan_jobs SET status = $4, error = $5, summary = COALESCE($6::jsonb, summary),
              finished_at = CASE WHEN $4 = 'queued' THEN NULL ELSE now() END,
              worker = CASE WHEN $4 = 'queued' THEN NULL ELSE worker END
        WHERE tenant_id = $1 AND id = $2 AND worker = $3 AND status = 'running'
        RETURNING id`,
      [
        tenantId,
        id,
        worker,
        outcome.status,
        outcome.error ?? null,
        outcome.summary === undefined ? null : JSON.stringify(outcome.summary),
      ],
    )) as [unknown[], number];
    return rows[0].length === 1;
  }

  /** Marks a job failed when pg-boss gave up on it (retries exhausted) and no run holds it. */
  async fail(tenantId: string, id: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE scan_jobs SET status = 'failed', error = $3, finished_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status IN ('queued','running')`,
      [tenantId, id, error],
    );
  }

  /** Cancels a queued or running job; answers the row after the change (or null when unknown). */
  async cancel(tenantId: string, id: string): Promise<ScanJobRow | null> {
    await this.dataSource.query(
      `UPDATE scan_jobs SET status = 'cancelled', finished_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status IN ('queued','running')`,
      [tenantId, id],
    );
    return this.get(tenantId, id);
  }

  async list(
    tenantId: string,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<ScanJobRow[]> {
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM scan_jobs
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tenantId, after?.createdAt ?? null, after?.id ?? null, limit],
    )) as ScanJobRow[];
  }

  /** Control-plane jobs and pushed scans together, newest first (keyset on created_at, id). */
  async listAll(
    tenantId: string,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<JobListRow[]> {
    return (await this.dataSource.query(
      `SELECT * FROM (
         SELECT id, 'job' AS kind, status, trigger, NULL AS source_id, requested_by, step, created_at,
                finished_at, summary
           FROM scan_jobs WHERE tenant_id = $1
         UNION ALL
         SELECT id, 'pushed' AS kind, status, NULL, source_id, triggered_by, NULL, created_at, completed_at, summary
           FROM scans WHERE tenant_id = $1 AND kind = 'pushed'
       ) j
       WHERE ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tenantId, after?.createdAt ?? null, after?.id ?? null, limit],
    )) as JobListRow[];
  }

  /** The tenant's synced fleet inventory, one entry per endpoint, in the shape `agents` pushes. */
  async inventory(
    tenantId: string,
  ): Promise<Array<{ source_id: string; hostname: string | null; agents: FleetAgent[] }>> {
    const rows = (await this.dataSource.query(
      `SELECT e.source_id, e.hostname, a.client, a.name AS agent, a.config_paths,
              s.name, s.transport, s.command, s.args, s.url, s.declared_tools, s.auth_mode,
              s.credential_env_names, s.credential_header_names, s.config_path, s.scope, s.project_path,
              s.introspection
         FROM fleet_endpoints e
         JOIN fleet_agents a ON a.endpoint_id = e.id AND a.tenant_id = e.tenant_id
         LEFT JOIN fleet_servers s ON s.agent_id = a.id AND s.tenant_id = a.tenant_id
        WHERE e.tenant_id = $1
        ORDER BY e.source_id, a.client, a.name, s.name`,
      [tenantId],
    )) as InventoryRow[];
    const endpoints = new Map<
      string,
      { source_id: string; hostname: string | null; agents: Map<string, FleetAgent> }
    >();
    for (const row of rows) {
      let endpoint = endpoints.get(row.source_id);
      if (!endpoint)
        endpoints.set(
          row.source_id,
          (endpoint = { source_id: row.source_id, hostname: row.hostname, agents: new Map() }),
        );
      const key = `${row.client}\u0000${row.agent}`;
      let agent = endpoint.agents.get(key);
      if (!agent) {
        agent = {
          name: row.agent,
          client: row.client,
          config_paths: row.config_paths,
          servers: [],
        } as FleetAgent;
        endpoint.agents.set(key, agent);
      }
      if (row.name === null) continue;
      agent.servers.push({
        name: row.name,
        transport: row.transport,
        ...(row.command !== null ? { command: row.command, args: row.args } : {}),
        ...(row.url !== null ? { url: row.url } : {}),
        declared_tools: row.declared_tools,
        auth_mode: row.auth_mode,
        credential_env_names: row.credential_env_names,
        credential_header_names: row.credential_header_names,
        config_path: row.config_path,
        ...(row.scope ? { scope: row.scope } : {}),
        ...(row.project_path ? { project_path: row.project_path } : {}),
        ...(row.introspection ? { introspection: row.introspection } : {}),
      } as FleetAgent['servers'][number]);
    }
    return [...endpoints.values()].map((e) => ({
      source_id: e.source_id,
      hostname: e.hostname,
      agents: [...e.agents.values()],
    }));
  }

  /** The newest pushed scan of each source (ids only; reports are read one at a time with {@link pushedReport}). */
  async latestPushed(tenantId: string): Promise<Array<{ id: string; source_id: string }>> {
    return (await this.dataSource.query(
      `SELECT DISTINCT ON (source_id) id, source_id FROM scans
        WHERE tenant_id = $1 AND kind = 'pushed' ORDER BY source_id, created_at DESC, id DESC`,
      [tenantId],
    )) as Array<{ id: string; source_id: string }>;
  }

  async pushedReport(tenantId: string, id: string): Promise<unknown> {
    const rows = (await this.dataSource.query(`SELECT report FROM scans WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
    ])) as Array<{ report: unknown }>;
    return rows[0]?.report ?? null;
  }

  async getSchedule(tenantId: string) {
    const rows = (await this.dataSource.query(
      `SELECT cron, timezone, next_run_at, updated_by, updated_at FROM scan_schedules WHERE tenant_id = $1`,
      [tenantId],
    )) as Array<{ cron: string; timezone: string; next_run_at: Date; updated_by: string; updated_at: Date }>;
    return rows[0] ?? null;
  }

  async putSchedule(
    tenantId: string,
    row: { cron: string; timezone: string; next_run_at: Date; updated_by: string },
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO scan_schedules (tenant_id, cron, timezone, next_run_at, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (tenant_id) DO UPDATE SET cron = $2, timezone = $3, next_run_at = $4, updated_by = $5,
         updated_at = now()`,
      [tenantId, row.cron, row.timezone, row.next_run_at, row.updated_by],
    );
  }

  async deleteSchedule(tenantId: string): Promise<boolean> {
    const result = (await this.dataSource.query(
      `DELETE FROM scan_schedules WHERE tenant_id = $1 RETURNING 1`,
      [tenantId],
    )) as [unknown[], number];
    return result[1] > 0;
  }

  /**
   * Schedules that are due, each advanced to its next run in the same statement (FOR UPDATE SKIP LOCKED), so a
   * tick on two replicas enqueues each due run once. `next` computes the following run from cron and timezone.
   */
  async takeDue(
    now: Date,
    next: (cron: string, timezone: string) => Date,
  ): Promise<Array<{ tenant_id: string }>> {
    return this.dataSource.transaction(async (manager) => {
      const due = (await manager.query(
        `SELECT tenant_id, cron, timezone FROM scan_schedules WHERE next_run_at <= $1
          ORDER BY next_run_at FOR UPDATE SKIP LOCKED LIMIT 1000`,
        [now],
      )) as Array<{ tenant_id: string; cron: string; timezone: string }>;
      for (const row of due)
        await manager.query(`UPDATE scan_schedules SET next_run_at = $2 WHERE tenant_id = $1`, [
          row.tenant_id,
          next(row.cron, row.timezone),
        ]);
      return due.map((row) => ({ tenant_id: row.tenant_id }));
    });
  }
}

interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

interface InventoryRow {
  source_id: string;
  hostname: string | null;
  client: FleetAgent['client'];
  agent: string;
  config_paths: string[];
  name: string | null;
  transport: FleetAgent['servers'][number]['transport'];
  command: string | null;
  args: string[];
  url: string | null;
  declared_tools: string[];
  auth_mode: FleetAgent['servers'][number]['auth_mode'];
  credential_env_names: string[];
  credential_header_names: string[];
  config_path: string;
  scope: 'global' | 'project' | null;
  project_path: string | null;
  introspection: FleetAgent['servers'][number]['introspection'] | null;
}

/** One row of `GET /v1/jobs`: a control-plane job or a pushed scan. */
export interface JobListRow {
  id: string;
  kind: 'job' | 'pushed';
  status: string;
  trigger: string | null;
  source_id: string | null;
  requested_by: string;
  step: string | null;
  created_at: Date;
  finished_at: Date | null;
  summary: unknown;
}
