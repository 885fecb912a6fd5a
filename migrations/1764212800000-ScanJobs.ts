import type { MigrationInterface, QueryRunner } from 'typeorm';
import PgBoss from 'pg-boss';

/** The schema pg-boss owns. Created here, once, so the app never creates or migrates it at boot. */
export const PG_BOSS_SCHEMA = 'pgboss';

/**
 * Control-plane scan jobs on a shared PostgreSQL queue (pg-boss).
 *
 * - schema `pgboss`: pg-boss's own tables (its construction plan for the pinned version, 10.x), created in this
 *   migration so `npm start` and each test database (copied from the migrated template) get it for free; the
 *   app starts pg-boss with `migrate: false` and only checks the version. Its two queues are created here too.
 * - `scan_jobs`: the tenant-facing job record: status, step progress (what `GET /v1/scan/{id}/stream` shows),
 *   attempts, heartbeat (a running job whose heartbeat is older than the job timeout belongs to a dead
 *   replica), the current pg-boss job id (for cancel), and the summary of the result it stored.
 * - `scan_schedules`: one cron schedule per tenant (at most), evaluated by a pg-boss cron job.
 * - `scans.kind` gains `job`: a result produced by a control-plane job is stored like a pushed one.
 */
/**
 * pg-boss's construction plan wraps itself in BEGIN/COMMIT; inside the migration's own transaction that COMMIT
 * would end it early, so the two statements are taken out (the plan's advisory lock stays, transaction-scoped).
 */
function pgBossConstruction(): string {
  const plan = PgBoss.getConstructionPlans(PG_BOSS_SCHEMA);
  const stripped = plan.replace(/^\s*BEGIN;\s*$/m, '').replace(/^\s*COMMIT;\s*$/m, '');
  if (/^\s*(BEGIN|COMMIT);\s*$/m.test(stripped)) throw new Error('unexpected pg-boss construction plan');
  return stripped;
}

export class ScanJobs1764212800000 implements MigrationInterface {
  name = 'ScanJobs1764212800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(pgBossConstruction());
    for (const queue of ['agent-bom.scan', 'agent-bom.scan-schedule'])
      await q.query(`SELECT ${PG_BOSS_SCHEMA}.create_queue($1, '{"policy":"standard"}'::json)`, [queue]);
    await q.query(`
      CREATE TABLE scan_jobs (
        tenant_id     text        NOT NULL REFERENCES tenants(id),
        id            uuid        NOT NULL,
        status        text        NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
        trigger       text        NOT NULL CHECK (trigger IN ('api','schedule')),
        requested_by  text        NOT NULL,
        boss_job_id   uuid        NOT NULL,
        attempts      integer     NOT NULL DEFAULT 0,
        worker        text,
        step          text,
        progress      jsonb       NOT NULL DEFAULT '[]',
        error         text,
        summary       jsonb,
        created_at    timestamptz NOT NULL,
        started_at    timestamptz,
        heartbeat_at  timestamptz,
        finished_at   timestamptz,
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX scan_jobs_tenant_created_idx ON scan_jobs (tenant_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX scan_jobs_running_idx ON scan_jobs (tenant_id) WHERE status = 'running'`);
    await q.query(`
      CREATE TABLE scan_schedules (
        tenant_id     text        PRIMARY KEY REFERENCES tenants(id),
        cron          text        NOT NULL CHECK (length(cron) <= 100),
        timezone      text        NOT NULL DEFAULT 'UTC' CHECK (length(timezone) <= 64),
        next_run_at   timestamptz NOT NULL,
        updated_by    text        NOT NULL,
        updated_at    timestamptz NOT NULL
      )`);
    await q.query(`ALTER TABLE scans DROP CONSTRAINT scans_kind_check`);
    await q.query(`ALTER TABLE scans ADD CONSTRAINT scans_kind_check CHECK (kind IN ('pushed','job'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM scans WHERE kind = 'job'`);
    await q.query(`ALTER TABLE scans DROP CONSTRAINT scans_kind_check`);
    await q.query(`ALTER TABLE scans ADD CONSTRAINT scans_kind_check CHECK (kind IN ('pushed'))`);
    await q.query(`DROP TABLE scan_schedules`);
    await q.query(`DROP TABLE scan_jobs`);
    await q.query(`DROP SCHEMA ${PG_BOSS_SCHEMA} CASCADE`);
  }
}
