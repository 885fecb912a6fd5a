import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops `audit_entries_event_id_idx` (tenant, event id). Since migration 1764028800000 an event id is unique per
 * writer, not per tenant: duplicates are looked up, and refused, by the unique index on (tenant, writer, event
 * id), and no query filters by event id alone. The index was one of the eight every appended entry updates, in
 * the statement that holds the tenant's chain head (docs/performance.md, "Audit").
 */
export class AuditDropEventIdIndex1764400800000 implements MigrationInterface {
  name = 'AuditDropEventIdIndex1764400800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_entries_event_id_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_entries_event_id_idx ON audit_entries (tenant_id, event_id)`);
  }
}
