import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stored policies with immutable version history, and each tenant's bundle: the version number proxies and
 * gateways see and the effective (merged) document it stands for.
 *
 * - `policies` is the head of each policy: its current version, its current name (unique among live policies,
 *   because the effective policy names rules `<policy name>/<rule id>`) and whether it was deleted.
 * - `policy_versions` is append-only: every create, update and delete adds one row (a delete adds a tombstone);
 *   a trigger refuses UPDATE, DELETE and TRUNCATE, so history cannot be rewritten by the application.
 * - `policy_bundles` holds one row per tenant that ever wrote a policy. Its row lock serialises the tenant's
 *   policy writes; `version` grows by one in the transaction of every change, and `document` is the effective
 *   policy at that version, so a bundle read is one primary-key lookup that can never see a half-applied change.
 *
 * Documents are `json`, not `jsonb`: a version is kept exactly as it was written (member order included), which
 * is what an operator reading history or diffing two versions expects. Nothing queries inside them.
 */
export class Policy1763942400000 implements MigrationInterface {
  name = 'Policy1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policies (
        tenant_id        text        NOT NULL REFERENCES tenants(id),
        id               uuid        NOT NULL,
        name             text        NOT NULL,
        current_version  integer     NOT NULL CHECK (current_version > 0),
        deleted          boolean     NOT NULL DEFAULT false,
        created_at       timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX policies_live_name_idx ON policies (tenant_id, name) WHERE NOT deleted`,
    );
    await q.query(`
      CREATE TABLE policy_versions (
        tenant_id       text        NOT NULL,
        policy_id       uuid        NOT NULL,
        version         integer     NOT NULL CHECK (version > 0),
        name            text        NOT NULL,
        description     text,
        enabled         boolean     NOT NULL,
        document        json        NOT NULL CHECK (json_typeof(document) = 'object'),
        bindings        json        CHECK (bindings IS NULL OR json_typeof(bindings) = 'object'),
        deleted         boolean     NOT NULL DEFAULT false,
        bundle_version  integer     NOT NULL CHECK (bundle_version > 0),
        created_at      timestamptz NOT NULL,
        created_by      text        NOT NULL,
        PRIMARY KEY (tenant_id, policy_id, version),
        FOREIGN KEY (tenant_id, policy_id) REFERENCES policies (tenant_id, id)
      )`);
    await q.query(`
      CREATE TABLE policy_bundles (
        tenant_id   text        PRIMARY KEY REFERENCES tenants(id),
        version     integer     NOT NULL CHECK (version >= 0),
        document    json        NOT NULL CHECK (json_typeof(document) = 'object'),
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'policy versions are immutable (% on %)', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
      FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable()`);
    await q.query(`
      CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
      FOR EACH STATEMENT EXECUTE FUNCTION policy_versions_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE policy_bundles`);
    await q.query(`DROP TABLE policy_versions`);
    await q.query(`DROP TABLE policies`);
    await q.query(`DROP FUNCTION policy_versions_immutable()`);
  }
}
