import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Control-plane hardening (issue 10, issue 16 item 4):
 * - endpoint enrollment: a fleet-push key may be bound to one endpoint (`api_keys.source_id`), and
 *   `fleet_enrollments` records which credential owns each source id and whether it may re-enroll;
 * - discovery: an upstream's transport is fixed when its (name, url) is first registered;
 * - upstream approval (`pending`/`approved`/`blocked`) and a tenant's auto-approve host list;
 * - audit event ids are unique per writer (the key that pushed them), not per tenant.
 */
export class Hardening1764028800000 implements MigrationInterface {
  name = 'Hardening1764028800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN source_id text`);
    await q.query(`
      CREATE TABLE fleet_enrollments (
        tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_id     text NOT NULL,
        key_id        uuid,
        state         text NOT NULL CHECK (state IN ('enrolled', 'revoked', 'reenroll')),
        enrolled_at   timestamptz NOT NULL,
        enrolled_by   text NOT NULL,
        changed_at    timestamptz NOT NULL,
        changed_by    text NOT NULL,
        PRIMARY KEY (tenant_id, source_id)
      )`);
    await q.query(`
      CREATE TABLE audit_witness_progress (
        sink       text NOT NULL,
        tenant_id  text NOT NULL,
        seq        bigint NOT NULL,
        PRIMARY KEY (sink, tenant_id)
      )`);
    await q.query(`ALTER TABLE upstream_names ADD COLUMN transport text`);
    await q.query(`
      UPDATE upstream_names u SET transport = (
        SELECT mode() WITHIN GROUP (ORDER BY s.transport) FROM fleet_servers s
         WHERE s.tenant_id = u.tenant_id AND s.name = u.base_name AND s.url = u.url
           AND s.transport IN ('http', 'https', 'sse'))`);
    await q.query(`
      CREATE TABLE upstream_approvals (
        tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name        text NOT NULL,
        state       text NOT NULL CHECK (state IN ('pending', 'approved', 'blocked')),
        reason      text,
        decided_by  text NOT NULL,
        decided_at  timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE upstream_auto_approve (
        tenant_id   text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        hosts       text[] NOT NULL DEFAULT '{}',
        updated_by  text NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      ALTER TABLE audit_entries ADD COLUMN writer text NOT NULL
        GENERATED ALWAYS AS (coalesce(event->'actor'->>'key_id', event->'actor'->>'subject', '')) STORED`);
    await q.query(`DROP INDEX audit_entries_event_id_idx`);
    await q.query(`CREATE INDEX audit_entries_event_id_idx ON audit_entries (tenant_id, event_id)`);
    await q.query(
      `CREATE UNIQUE INDEX audit_entries_writer_event_id_idx ON audit_entries (tenant_id, writer, event_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_entries_writer_event_id_idx`);
    await q.query(`DROP INDEX audit_entries_event_id_idx`);
    await q.query(`ALTER TABLE audit_entries DROP COLUMN writer`);
    await q.query(`CREATE UNIQUE INDEX audit_entries_event_id_idx ON audit_entries (tenant_id, event_id)`);
    await q.query(`DROP TABLE upstream_auto_approve`);
    await q.query(`DROP TABLE upstream_approvals`);
    await q.query(`ALTER TABLE upstream_names DROP COLUMN transport`);
    await q.query(`DROP TABLE audit_witness_progress`);
    await q.query(`DROP TABLE fleet_enrollments`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN source_id`);
  }
}
