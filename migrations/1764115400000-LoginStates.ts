import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-time browser-login state shared by replicas: OIDC state/nonce/PKCE verifier and SAML RelayState/request id
 * (consumed with DELETE … RETURNING, so a state is used at most once even under a race), and the SAML
 * assertion-replay guard.
 */
export class LoginStates1764115400000 implements MigrationInterface {
  name = 'LoginStates1764115400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sso_login_states (
        state_hash     text PRIMARY KEY CHECK (state_hash ~ '^[0-9a-f]{64}$'),
        kind           text NOT NULL CHECK (kind IN ('oidc','saml')),
        nonce          text,
        code_verifier  text,
        request_id     text,
        return_to      text NOT NULL CHECK (length(return_to) <= 512),
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sso_login_states_expires_idx ON sso_login_states (expires_at)`);
    await q.query(`
      CREATE TABLE saml_assertions (
        assertion_id  text PRIMARY KEY CHECK (length(assertion_id) BETWEEN 1 AND 512),
        expires_at    timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX saml_assertions_expires_idx ON saml_assertions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE saml_assertions`);
    await q.query(`DROP TABLE sso_login_states`);
  }
}
