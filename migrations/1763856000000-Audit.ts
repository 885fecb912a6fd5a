import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit ledger: one hash chain per tenant (entries), its head (the row every writer locks, so concurrent
 * writers on any replica append one after another: no fork, no gap), and signed checkpoints of the chain.
 *
 * Entries are append-only at the database level too: UPDATE and TRUNCATE are refused, and DELETE (of entries or
 * checkpoints) only inside a transaction that set `agent_bom.audit_prune` (retention). Filter columns are
 * generated from the hashed `event`, so they can never disagree with what the hash covers.
 */
export class Audit1763856000000 implements MigrationInterface {
  name = 'Audit1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_heads (
        tenant_id         text PRIMARY KEY REFERENCES tenants(id),
        seq               bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
        hash              text NOT NULL,
        anchor_seq        bigint NOT NULL DEFAULT 0,
        checkpointed_seq  bigint NOT NULL DEFAULT 0,
        unsigned_since    timestamptz,
        updated_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE audit_entries (
        tenant_id    text   NOT NULL,
        seq          bigint NOT NULL CHECK (seq > 0),
        prev_hash    text   NOT NULL,
        hash         text   NOT NULL,
        event        jsonb  NOT NULL CHECK (jsonb_typeof(event) = 'object'),
        event_id     text   NOT NULL GENERATED ALWAYS AS (event->>'event_id') STORED,
        type         text   NOT NULL GENERATED ALWAYS AS (event->>'type') STORED,
        origin       text   GENERATED ALWAYS AS (event->>'origin') STORED,
        occurred_at  text   GENERATED ALWAYS AS (event->>'timestamp') STORED,
        agent        text   GENERATED ALWAYS AS (event->>'agent') STORED,
        tool         text   GENERATED ALWAYS AS (event->>'tool') STORED,
        decision     text   GENERATED ALWAYS AS (event->>'decision') STORED,
        trace_id     text   GENERATED ALWAYS AS (event->>'trace_id') STORED,
        PRIMARY KEY (tenant_id, seq)
      )`);
    await q.query(`CREATE UNIQUE INDEX audit_entries_event_id_idx ON audit_entries (tenant_id, event_id)`);
    await q.query(`CREATE INDEX audit_entries_type_idx ON audit_entries (tenant_id, type, seq)`);
    await q.query(`CREATE INDEX audit_entries_occurred_idx ON audit_entries (tenant_id, occurred_at)`);
    await q.query(
      `CREATE INDEX audit_entries_agent_idx ON audit_entries (tenant_id, agent, seq) WHERE agent IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX audit_entries_tool_idx ON audit_entries (tenant_id, tool, seq) WHERE tool IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX audit_entries_trace_idx ON audit_entries (tenant_id, trace_id) WHERE trace_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE audit_checkpoints (
        tenant_id  text   NOT NULL REFERENCES tenants(id),
        seq        bigint NOT NULL CHECK (seq > 0),
        hash       text   NOT NULL,
        purpose    text   NOT NULL CHECK (purpose IN ('periodic', 'export', 'anchor')),
        signed_at  text   NOT NULL,
        key_id     text   NOT NULL,
        signature  text   NOT NULL,
        PRIMARY KEY (tenant_id, seq)
      )`);
    await q.query(`
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('agent_bom.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_checkpoints'
           AND current_setting('agent_bom.audit_prune', true) = 'on' THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['audit_entries', 'audit_checkpoints']) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION audit_append_only()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_checkpoints`);
    await q.query(`DROP TABLE audit_entries`);
    await q.query(`DROP TABLE audit_heads`);
    await q.query(`DROP FUNCTION audit_append_only()`);
  }
}
