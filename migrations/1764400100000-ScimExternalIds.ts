import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An OIDC bearer token often names the person only by the IdP's user id (`sub`), which SCIM carries as
 * `externalId`: tombstones keep it, so a token of a deleted person is refused by `sub` as well as by userName or
 * email; and both lookups by (tenant, externalId) are indexed. externalId is opaque: compared exactly.
 */
export class ScimExternalIds1764400100000 implements MigrationInterface {
  name = 'ScimExternalIds1764400100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE scim_deleted_users ADD COLUMN external_id text CHECK (length(external_id) <= 256)`,
    );
    await q.query(
      `CREATE INDEX scim_deleted_users_external_idx ON scim_deleted_users (tenant_id, external_id)
        WHERE external_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX scim_users_external_idx ON scim_users (tenant_id, external_id) WHERE external_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX scim_users_external_idx`);
    await q.query(`DROP INDEX scim_deleted_users_external_idx`);
    await q.query(`ALTER TABLE scim_deleted_users DROP COLUMN external_id`);
  }
}
