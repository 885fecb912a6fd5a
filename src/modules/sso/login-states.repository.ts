import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { secretHash } from '../../core/auth/secret-hash.js';
import { returned } from '../../core/database/returned.js';

export interface LoginState {
  kind: 'oidc' | 'saml';
  nonce: string | null;
  codeVerifier: string | null;
  requestId: string | null;
  returnTo: string;
}

/** SQL for one-time browser-login state and the SAML assertion-replay guard (both shared by replicas). */
@Injectable()
export class LoginStatesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async save(state: string, value: LoginState, ttlSeconds: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO sso_login_states (state_hash, kind, nonce, code_verifier, request_id, return_to, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
      [
        secretHash(state),
        value.kind,
        value.nonce,
        value.codeVerifier,
        value.requestId,
        value.returnTo,
        ttlSeconds,
      ],
    );
    await this.dataSource.query(`DELETE FROM sso_login_states WHERE expires_at < now() - interval '1 hour'`);
  }

  /** Takes the state out (at most once, across replicas); null when unknown, already used or expired. */
  async consume(state: string, kind: 'oidc' | 'saml'): Promise<LoginState | null> {
    const rows = returned<Record<string, string | null>>(
      await this.dataSource.query(
        `DELETE FROM sso_login_states WHERE state_hash = $1 AND kind = $2
        RETURNING nonce, code_verifier, request_id, return_to, expires_at > now() AS live`,
        [secretHash(state), kind],
      ),
    );
    const row = rows[0];
    if (!row || !row.live) return null;
    return {
      kind,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      requestId: row.request_id,
      returnTo: row.return_to!,
    };
  }

  /** Records a SAML assertion id until `expiresAt`; false when it was seen before (a replay), on any replica. */
  async consumeAssertion(id: string, expiresAt: Date): Promise<boolean> {
    await this.dataSource.query(`DELETE FROM saml_assertions WHERE expires_at < now()`);
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO saml_assertions (assertion_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [id, expiresAt],
    );
    return rows.length > 0;
  }
}
