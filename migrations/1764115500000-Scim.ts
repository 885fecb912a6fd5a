import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM 2.0 provisioning: the tenant's SCIM bearer token (SHA-256 of a 256-bit secret), users, groups and
 * memberships. Everything is keyed by tenant; user names are unique per tenant, case-insensitively (RFC 7643).
 */
export class Scim1764115500000 implements MigrationInterface {
  name = 'Scim1764115500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scim_tokens (
        tenant_id   text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE scim_users (
        id            uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_name     text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 320),
        external_id   text CHECK (length(external_id) <= 256),
        display_name  text CHECK (length(display_name) <= 256),
        email         text CHECK (length(email) <= 320),
        active        boolean NOT NULL DEFAULT true,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX scim_users_name_idx ON scim_users (tenant_id, lower(user_name))`);
    await q.query(`
      CREATE TABLE scim_groups (
        id            uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 256),
        external_id   text CHECK (length(external_id) <= 256),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX scim_groups_name_idx ON scim_groups (tenant_id, lower(display_name))`);
    await q.query(`
      CREATE TABLE scim_group_members (
        tenant_id  text NOT NULL,
        group_id   uuid NOT NULL,
        user_id    uuid NOT NULL,
        PRIMARY KEY (tenant_id, group_id, user_id),
        FOREIGN KEY (tenant_id, group_id) REFERENCES scim_groups (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, user_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX scim_group_members_user_idx ON scim_group_members (tenant_id, user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scim_group_members`);
    await q.query(`DROP TABLE scim_groups`);
    await q.query(`DROP TABLE scim_users`);
    await q.query(`DROP TABLE scim_tokens`);
  }
}
