import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Browser sessions, stored server-side so that they can be listed and revoked at once on every replica.
 * The cookie carries a random secret; only its SHA-256 is stored (the secret has 256 bits of entropy, so a fast
 * hash is enough). A session opened with an API key dies with that key (`key_id` → `ON DELETE CASCADE`, and the
 * lookup checks the key's state).
 */
export class Sessions1764115200000 implements MigrationInterface {
  name = 'Sessions1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_sessions (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id        text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        token_hash       text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        role             text NOT NULL CHECK (role IN ('platform-admin','admin','analyst','viewer')),
        subject          text NOT NULL CHECK (length(subject) BETWEEN 1 AND 320),
        via              text NOT NULL CHECK (via IN ('api_key','oidc','saml')),
        key_id           uuid REFERENCES api_keys(id) ON DELETE CASCADE,
        user_id          uuid,
        created_at       timestamptz NOT NULL DEFAULT now(),
        last_seen_at     timestamptz NOT NULL DEFAULT now(),
        idle_expires_at  timestamptz NOT NULL,
        expires_at       timestamptz NOT NULL,
        revoked_at       timestamptz,
        revoked_by       text,
        user_agent       text CHECK (length(user_agent) <= 512),
        CHECK (idle_expires_at <= expires_at),
        CHECK ((via = 'api_key') = (key_id IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX auth_sessions_tenant_created_idx ON auth_sessions (tenant_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX auth_sessions_expires_idx ON auth_sessions (expires_at)`);
    await q.query(
      `CREATE INDEX auth_sessions_user_idx ON auth_sessions (tenant_id, user_id) WHERE user_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE auth_sessions`);
  }
}
