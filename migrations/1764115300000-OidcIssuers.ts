import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OIDC issuers bound to tenants, and the shared `jti` replay guard.
 * An issuer is bound to at most one tenant (UNIQUE), so two customers' IdPs can never mint each other's tenant.
 * `oidc_jti` is written with INSERT … ON CONFLICT DO NOTHING: the first replica to record a `jti` wins, every
 * later presentation (on any replica) is a replay.
 */
export class OidcIssuers1764115300000 implements MigrationInterface {
  name = 'OidcIssuers1764115300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oidc_issuers (
        tenant_id     text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        issuer        text NOT NULL UNIQUE CHECK (length(issuer) BETWEEN 8 AND 2048),
        audience      text NOT NULL CHECK (length(audience) BETWEEN 1 AND 512),
        jwks_uri      text CHECK (length(jwks_uri) <= 2048),
        tenant_claim  text NOT NULL,
        role_claim    text NOT NULL,
        groups_claim  text NOT NULL,
        group_roles   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(group_roles) = 'object'),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        updated_by    text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE oidc_jti (
        issuer      text NOT NULL,
        jti         text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (issuer, jti)
      )`);
    await q.query(`CREATE INDEX oidc_jti_expires_idx ON oidc_jti (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oidc_jti`);
    await q.query(`DROP TABLE oidc_issuers`);
  }
}
