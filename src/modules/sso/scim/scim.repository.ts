import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returned } from '../../../core/database/returned.js';
import { managerOf, type Tx } from '../../../core/database/transactions.js';

export interface ScimUserRow {
  id: string;
  tenant_id: string;
  user_name: string;
  external_id: string | null;
  display_name: string | null;
  email: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ScimGroupRow {
  id: string;
  tenant_id: string;
  display_name: string;
  external_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What SCIM says about a login subject; see {@link ScimRepository.standingOf}. */
export interface ScimStanding {
  /** Whether SCIM ever provisioned anyone in the tenant (users or tombstones); if not, the rest is null. */
  tenant_uses_scim: boolean;
  active: boolean | null;
  deleted_at: Date | null;
}

export type UserFields = Pick<ScimUserRow, 'user_name' | 'external_id' | 'display_name' | 'email' | 'active'>;
export type GroupFields = Pick<ScimGroupRow, 'display_name' | 'external_id'>;

/** SQL for SCIM tokens, users, groups and memberships; every method but the token lookup takes the tenant. */
@Injectable()
export class ScimRepository {
  constructor(private readonly dataSource: DataSource) {}

  private q(tx?: Tx) {
    return managerOf(this.dataSource, tx);
  }

  async setToken(tenantId: string, tokenHash: string, by: string, tx: Tx): Promise<void> {
    await this.q(tx).query(
      `INSERT INTO scim_tokens (tenant_id, token_hash, created_by) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_by = EXCLUDED.created_by,
              created_at = now()`,
      [tenantId, tokenHash, by],
    );
  }

  async deleteToken(tenantId: string, tx: Tx): Promise<boolean> {
    return (
      returned(await this.q(tx).query(`DELETE FROM scim_tokens WHERE tenant_id = $1 RETURNING 1`, [tenantId]))
        .length > 0
    );
  }

  async tenantOfToken(tokenHash: string): Promise<string | null> {
    const rows: Array<{ tenant_id: string }> = await this.dataSource.query(
      `SELECT tenant_id FROM scim_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows[0]?.tenant_id ?? null;
  }

  async insertUser(tenantId: string, f: UserFields, tx: Tx): Promise<ScimUserRow | 'taken'> {
    const rows: ScimUserRow[] = await this.q(tx).query(
      `INSERT INTO scim_users (tenant_id, user_name, external_id, display_name, email, active)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *`,
      [tenantId, f.user_name, f.external_id, f.display_name, f.email, f.active],
    );
    return rows[0] ?? 'taken';
  }

  async user(tenantId: string, id: string, tx?: Tx): Promise<ScimUserRow | null> {
    const rows: ScimUserRow[] = await this.q(tx).query(
      `SELECT * FROM scim_users WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  }

  /**
   * The user a login names, if SCIM provisioned one: by subject (user name or email, case-insensitive) or by `sub`
   * (the IdP's user id) equal to its externalId. An active match wins (as for bearer tokens).
   */
  async userForSubject(tenantId: string, subject: string, sub: string | null): Promise<ScimUserRow | null> {
    const rows: ScimUserRow[] = await this.dataSource.query(
      `SELECT * FROM scim_users
        WHERE tenant_id = $1 AND (lower(user_name) = lower($2) OR lower(email) = lower($2) OR external_id = $3)
        ORDER BY active DESC LIMIT 1`,
      [tenantId, subject, sub],
    );
    return rows[0] ?? null;
  }

  /**
   * What SCIM says about a bearer subject: a user matches when its userName or email equals `subject`
   * (case-insensitive) or its externalId equals `sub` exactly (the IdP's opaque user id). Answers whether a live
   * user matches and is active (`null`: none), the latest deletion of a user that matched (`null`: none), and whether
   * the tenant has any SCIM users at all. One indexed round trip.
   */
  async standingOf(tenantId: string, subject: string, sub: string | null): Promise<ScimStanding> {
    const rows: ScimStanding[] = await this.dataSource.query(
      `SELECT (SELECT bool_or(active) FROM scim_users
                WHERE tenant_id = $1 AND (lower(user_name) = lower($2) OR lower(email) = lower($2)
                                          OR external_id = $3)) AS active,
              (SELECT max(deleted_at) FROM scim_deleted_users
                WHERE tenant_id = $1 AND (lower(user_name) = lower($2) OR lower(email) = lower($2)
                                          OR external_id = $3)) AS deleted_at,
              (EXISTS (SELECT 1 FROM scim_users WHERE tenant_id = $1)
                OR EXISTS (SELECT 1 FROM scim_deleted_users WHERE tenant_id = $1)) AS tenant_uses_scim`,
      [tenantId, subject, sub],
    );
    return rows[0];
  }

  async listUsers(
    tenantId: string,
    filter: { field: 'user_name' | 'external_id'; value: string } | undefined,
    offset: number,
    limit: number,
  ): Promise<{ rows: ScimUserRow[]; total: number }> {
    const where = filter ? `AND lower(${filter.field}) = lower($2)` : '';
    const params: unknown[] = filter ? [tenantId, filter.value] : [tenantId];
    const [{ n }] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM scim_users WHERE tenant_id = $1 ${where}`,
      params,
    );
    const rows: ScimUserRow[] = await this.dataSource.query(
      `SELECT * FROM scim_users WHERE tenant_id = $1 ${where} ORDER BY created_at, id
        OFFSET ${offset} LIMIT ${limit}`,
      params,
    );
    return { rows, total: n };
  }

  async updateUser(
    tenantId: string,
    id: string,
    f: UserFields,
    tx: Tx,
  ): Promise<ScimUserRow | null | 'taken'> {
    try {
      const rows = returned<ScimUserRow>(
        await this.q(tx).query(
          `UPDATE scim_users SET user_name = $3, external_id = $4, display_name = $5, email = $6, active = $7,
                  updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
          [tenantId, id, f.user_name, f.external_id, f.display_name, f.email, f.active],
        ),
      );
      return rows[0] ?? null;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return 'taken';
      throw error;
    }
  }

  /** Deletes a user and leaves its tombstone (see {@link standingOf}). */
  async deleteUser(tenantId: string, id: string, tx: Tx): Promise<boolean> {
    return (
      returned(
        await this.q(tx).query(
          `WITH gone AS (DELETE FROM scim_users WHERE tenant_id = $1 AND id = $2
                          RETURNING tenant_id, user_name, email, external_id)
           INSERT INTO scim_deleted_users (tenant_id, user_name, email, external_id) SELECT * FROM gone RETURNING 1`,
          [tenantId, id],
        ),
      ).length > 0
    );
  }

  async insertGroup(tenantId: string, f: GroupFields, tx: Tx): Promise<ScimGroupRow | 'taken'> {
    const rows: ScimGroupRow[] = await this.q(tx).query(
      `INSERT INTO scim_groups (tenant_id, display_name, external_id) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING *`,
      [tenantId, f.display_name, f.external_id],
    );
    return rows[0] ?? 'taken';
  }

  async group(tenantId: string, id: string, tx?: Tx): Promise<ScimGroupRow | null> {
    const rows: ScimGroupRow[] = await this.q(tx).query(
      `SELECT * FROM scim_groups WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  }

  async listGroups(
    tenantId: string,
    filter: { field: 'display_name' | 'external_id'; value: string } | undefined,
    offset: number,
    limit: number,
  ): Promise<{ rows: ScimGroupRow[]; total: number }> {
    const where = filter ? `AND lower(${filter.field}) = lower($2)` : '';
    const params: unknown[] = filter ? [tenantId, filter.value] : [tenantId];
    const [{ n }] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM scim_groups WHERE tenant_id = $1 ${where}`,
      params,
    );
    const rows: ScimGroupRow[] = await this.dataSource.query(
      `SELECT * FROM scim_groups WHERE tenant_id = $1 ${where} ORDER BY created_at, id OFFSET ${offset} LIMIT ${limit}`,
      params,
    );
    return { rows, total: n };
  }

  async updateGroup(
    tenantId: string,
    id: string,
    f: GroupFields,
    tx: Tx,
  ): Promise<ScimGroupRow | null | 'taken'> {
    try {
      const rows = returned<ScimGroupRow>(
        await this.q(tx).query(
          `UPDATE scim_groups SET display_name = $3, external_id = $4, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING *`,
          [tenantId, id, f.display_name, f.external_id],
        ),
      );
      return rows[0] ?? null;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return 'taken';
      throw error;
    }
  }

  async deleteGroup(tenantId: string, id: string, tx: Tx): Promise<boolean> {
    return (
      returned(
        await this.q(tx).query(`DELETE FROM scim_groups WHERE tenant_id = $1 AND id = $2 RETURNING 1`, [
          tenantId,
          id,
        ]),
      ).length > 0
    );
  }

  async members(
    tenantId: string,
    groupId: string,
    tx?: Tx,
  ): Promise<Array<{ id: string; user_name: string }>> {
    return this.q(tx).query(
      `SELECT u.id, u.user_name FROM scim_group_members m JOIN scim_users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.group_id = $2 ORDER BY u.user_name`,
      [tenantId, groupId],
    );
  }

  /** Adds members that exist in this tenant; returns the ids that were not users of this tenant. */
  async addMembers(tenantId: string, groupId: string, userIds: string[], tx: Tx): Promise<string[]> {
    if (userIds.length === 0) return [];
    const found: Array<{ id: string }> = await this.q(tx).query(
      `SELECT id FROM scim_users WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, userIds],
    );
    const known = new Set(found.map((r) => r.id));
    const missing = userIds.filter((id) => !known.has(id));
    if (missing.length > 0) return missing;
    await this.q(tx).query(
      `INSERT INTO scim_group_members (tenant_id, group_id, user_id)
       SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
      [tenantId, groupId, userIds],
    );
    return [];
  }

  async removeMembers(tenantId: string, groupId: string, userIds: string[] | 'all', tx: Tx): Promise<void> {
    if (userIds === 'all') {
      await this.q(tx).query(`DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2`, [
        tenantId,
        groupId,
      ]);
      return;
    }
    await this.q(tx).query(
      `DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = ANY($3::uuid[])`,
      [tenantId, groupId, userIds],
    );
  }

  async groupsOfUser(
    tenantId: string,
    userId: string,
    tx?: Tx,
  ): Promise<Array<{ id: string; display_name: string }>> {
    return this.q(tx).query(
      `SELECT g.id, g.display_name FROM scim_group_members m JOIN scim_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
        WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY g.display_name`,
      [tenantId, userId],
    );
  }
}
