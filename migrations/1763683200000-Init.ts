import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants and API keys: the identity foundation every other table hangs off. */
export class Init1763683200000 implements MigrationInterface {
  name = 'Init1763683200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id          text PRIMARY KEY,
        name        text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id      text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name           text NOT NULL,
        role           text NOT NULL CHECK (role IN
                         ('platform-admin','admin','analyst','viewer','fleet-push','proxy','gateway')),
        lookup_prefix  text NOT NULL,
        secret_hash    text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        created_by     text NOT NULL,
        expires_at     timestamptz,
        revoked_at     timestamptz,
        last_used_at   timestamptz,
        replaced_by    uuid REFERENCES api_keys(id),
        overlap_until  timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_lookup_prefix_idx ON api_keys (lookup_prefix)`);
    await q.query(
      `CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE tenants`);
  }
}
