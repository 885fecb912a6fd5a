import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The offline advisory database `agent-bom db import` fills from OSV-format records.
 *
 * Advisories are public reference data shared by every tenant (like a package registry), so these tables carry
 * no `tenant_id`: nothing tenant-specific is ever written here, and tenants only read it through scans.
 *
 * - `advisories`: one row per OSV id; `record` is the normalised advisory (affected ranges, severity, aliases)
 *   the matcher reads. Re-importing a record whose content did not change writes nothing (idempotent).
 * - `advisory_packages`: which (ecosystem, name) each advisory names; the scanner's only lookup key.
 */
export class Advisories1764201600000 implements MigrationInterface {
  name = 'Advisories1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE advisories (
        id           text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
        modified     timestamptz NOT NULL,
        published    timestamptz,
        withdrawn    timestamptz,
        severity     text        NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
        cvss_score   numeric(3,1) CHECK (cvss_score BETWEEN 0 AND 10),
        cvss_vector  text,
        aliases      text[]      NOT NULL DEFAULT '{}',
        summary      text,
        record       jsonb       NOT NULL,
        imported_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX advisories_aliases_idx ON advisories USING gin (aliases)`);
    await q.query(`
      CREATE TABLE advisory_packages (
        ecosystem    text NOT NULL CHECK (ecosystem IN ('npm', 'pypi')),
        name         text NOT NULL,
        advisory_id  text NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
        PRIMARY KEY (ecosystem, name, advisory_id)
      )`);
    await q.query(`CREATE INDEX advisory_packages_advisory_idx ON advisory_packages (advisory_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE advisory_packages`);
    await q.query(`DROP TABLE advisories`);
  }
}
