import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM deletions leave a tombstone (tenant, userName, email, when) so an OIDC bearer token issued to the person
 * before the deletion is refused; and the bearer check's lookup of a subject by email is indexed like by userName.
 */
export class ScimDeletedUsers1764300100000 implements MigrationInterface {
  name = 'ScimDeletedUsers1764300100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scim_deleted_users (
        tenant_id   text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_name   text NOT NULL,
        email       text,
        deleted_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX scim_deleted_users_name_idx ON scim_deleted_users (tenant_id, lower(user_name))`,
    );
    await q.query(
      `CREATE INDEX scim_deleted_users_email_idx ON scim_deleted_users (tenant_id, lower(email))`,
    );
    await q.query(`CREATE INDEX scim_users_email_idx ON scim_users (tenant_id, lower(email))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX scim_users_email_idx`);
    await q.query(`DROP TABLE scim_deleted_users`);
  }
}
