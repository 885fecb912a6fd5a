import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Role } from '../../../../libs/contracts/src/index.js';
import { returned } from '../../../core/database/returned.js';
import { managerOf, type Tx } from '../../../core/database/transactions.js';

export interface OidcBindingRow {
  tenantId: string;
  issuer: string;
  audience: string;
  jwksUri: string | null;
  tenantClaim: string;
  roleClaim: string;
  groupsClaim: string;
  groupRoles: Record<string, Role>;
  updatedAt: Date;
  updatedBy: string;
}

interface RawRow {
  tenant_id: string;
  issuer: string;
  audience: string;
  jwks_uri: string | null;
  tenant_claim: string;
  role_claim: string;
  groups_claim: string;
  group_roles: Record<string, Role>;
  updated_at: Date;
  updated_by: string;
}

const toRow = (r: RawRow): OidcBindingRow => ({
  tenantId: r.tenant_id,
  issuer: r.issuer,
  audience: r.audience,
  jwksUri: r.jwks_uri,
  tenantClaim: r.tenant_claim,
  roleClaim: r.role_claim,
  groupsClaim: r.groups_claim,
  groupRoles: r.group_roles,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

/** SQL for tenant-bound OIDC issuers and the shared `jti` replay guard. */
@Injectable()
export class OidcIssuersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every binding (a small table: one row per tenant with its own IdP), for the in-memory issuer index. */
  async all(): Promise<OidcBindingRow[]> {
    const rows: RawRow[] = await this.dataSource.query(`SELECT * FROM oidc_issuers`);
    return rows.map(toRow);
  }

  async find(tenantId: string): Promise<OidcBindingRow | null> {
    const rows: RawRow[] = await this.dataSource.query(`SELECT * FROM oidc_issuers WHERE tenant_id = $1`, [
      tenantId,
    ]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** Inserts or replaces the tenant's binding; 'issuer_taken' when another tenant already has this issuer. */
  async upsert(
    tenantId: string,
    b: Omit<OidcBindingRow, 'tenantId' | 'updatedAt'>,
    tx: Tx,
  ): Promise<'ok' | 'issuer_taken'> {
    const manager = managerOf(this.dataSource, tx);
    const taken: unknown[] = await manager.query(
      `SELECT 1 FROM oidc_issuers WHERE issuer = $1 AND tenant_id <> $2`,
      [b.issuer, tenantId],
    );
    if (taken.length > 0) return 'issuer_taken';
    await manager.query(
      `INSERT INTO oidc_issuers (tenant_id, issuer, audience, jwks_uri, tenant_claim, role_claim, groups_claim,
                                 group_roles, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
       ON CONFLICT (tenant_id) DO UPDATE SET issuer = EXCLUDED.issuer, audience = EXCLUDED.audience,
              jwks_uri = EXCLUDED.jwks_uri, tenant_claim = EXCLUDED.tenant_claim, role_claim = EXCLUDED.role_claim,
              groups_claim = EXCLUDED.groups_claim, group_roles = EXCLUDED.group_roles,
              updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [
        tenantId,
        b.issuer,
        b.audience,
        b.jwksUri,
        b.tenantClaim,
        b.roleClaim,
        b.groupsClaim,
        JSON.stringify(b.groupRoles),
        b.updatedBy,
      ],
    );
    return 'ok';
  }

  async delete(tenantId: string, tx: Tx): Promise<boolean> {
    const rows = returned(
      await managerOf(this.dataSource, tx).query(
        `DELETE FROM oidc_issuers WHERE tenant_id = $1 RETURNING 1`,
        [tenantId],
      ),
    );
    return rows.length > 0;
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM tenants WHERE id = $1`, [tenantId]);
    return rows.length > 0;
  }

  /** Records a `jti` until `expiresAt`; false when it was already recorded (a replay), on any replica. */
  async consumeJti(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO oidc_jti (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
      [issuer, jti, expiresAt],
    );
    return rows.length > 0;
  }

  async pruneJti(now: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM oidc_jti WHERE expires_at < $1`, [now]);
  }
}
