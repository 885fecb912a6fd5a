import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scan results and the findings they produce, per tenant.
 *
 * - `scans`: one row per stored scan (a result pushed by `agent-bom scan`). `report` is the pushed document
 *   after server-side checks; `summary` its counts. Unique per (tenant, id).
 * - `findings`: the tenant's current findings, one row per (tenant, source_id, finding id). Finding ids are
 *   stable across scans (a hash of kind, subject and rule), so a new scan from the same source refreshes
 *   `last_seen`, and a finding missing from it gets `resolved_at`; a reappearing one is reopened.
 *   Triage (`accepted_risk` with a reason and optional expiry, `false_positive`) is kept across scans.
 */
export class Scans1764205200000 implements MigrationInterface {
  name = 'Scans1764205200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scans (
        tenant_id     text        NOT NULL REFERENCES tenants(id),
        id            uuid        NOT NULL,
        kind          text        NOT NULL CHECK (kind IN ('pushed')),
        status        text        NOT NULL CHECK (status IN ('done')),
        source_id     text        NOT NULL,
        triggered_by  text        NOT NULL,
        created_at    timestamptz NOT NULL,
        completed_at  timestamptz,
        summary       jsonb       NOT NULL,
        report        jsonb       NOT NULL,
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE INDEX scans_tenant_created_idx ON scans (tenant_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE findings (
        tenant_id          text        NOT NULL REFERENCES tenants(id),
        source_id          text        NOT NULL,
        id                 text        NOT NULL CHECK (id ~ '^f_[0-9a-f]{24}$'),
        kind               text        NOT NULL CHECK (kind IN ('vulnerability', 'floating_version', 'credential_exposure')),
        severity           text        NOT NULL CHECK (severity IN ('none', 'low', 'medium', 'high', 'critical')),
        severity_rank      smallint    NOT NULL,
        title              text        NOT NULL,
        subject            text        NOT NULL,
        advisory_id        text,
        fixed_version      text,
        cvss_score         numeric(3,1),
        servers            text[]      NOT NULL DEFAULT '{}',
        credentials        text[]      NOT NULL DEFAULT '{}',
        locations          text[]      NOT NULL DEFAULT '{}',
        first_seen         timestamptz NOT NULL,
        last_seen          timestamptz NOT NULL,
        resolved_at        timestamptz,
        first_scan_id      uuid        NOT NULL,
        last_scan_id       uuid        NOT NULL,
        triage             text        NOT NULL DEFAULT 'open' CHECK (triage IN ('open', 'accepted_risk', 'false_positive')),
        triage_reason      text,
        triage_expires_at  timestamptz,
        triaged_by         text,
        triaged_at         timestamptz,
        PRIMARY KEY (tenant_id, source_id, id)
      )`);
    await q.query(
      `CREATE INDEX findings_tenant_rank_idx ON findings (tenant_id, severity_rank DESC, last_seen DESC, source_id, id)`,
    );
    await q.query(`CREATE INDEX findings_tenant_id_idx ON findings (tenant_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE findings`);
    await q.query(`DROP TABLE scans`);
  }
}
