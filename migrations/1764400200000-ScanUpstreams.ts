import type { MigrationInterface, QueryRunner } from 'typeorm';
import { upstreamName } from '../libs/contracts/src/index.js';

/**
 * Discovery aggregates stored scan results too (seed 001: "other scan results stored in the tenant's job
 * history"), not only fleet sync.
 *
 * - `scan_upstreams`: the remote (http/https/sse) MCP servers of each source's newest scan, one row per
 *   (tenant, source, name, url). Each stored scan replaces its source's rows, so a server removed from a config
 *   leaves discovery with the next scan, as it does with the next fleet sync. `agent` is the label discovery lists
 *   in `source_agents` (the endpoint's hostname, else the source id). URLs are the stored, sanitised ones: no
 *   credential value is ever here. Control-plane jobs over the fleet inventory write nothing (the fleet is their
 *   source already).
 * - Backfill: the newest stored scan of every source (except fleet-inventory jobs, `control-plane:` sources)
 *   fills the table, and every (name, url) pair not yet named gets its stable name in `upstream_names` exactly as
 *   a fleet sync would give it ({@link upstreamName}, next free suffix), in the order the scans were stored.
 */
export class ScanUpstreams1764400200000 implements MigrationInterface {
  name = 'ScanUpstreams1764400200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scan_upstreams (
        tenant_id  text        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_id  text        NOT NULL,
        name       text        NOT NULL,
        url        text        NOT NULL CHECK (url ~ '^https?://'),
        transport  text        NOT NULL CHECK (transport IN ('http', 'https', 'sse')),
        agent      text        NOT NULL,
        scan_id    uuid        NOT NULL,
        seen_at    timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, source_id, name, url)
      )`);
    await q.query(`CREATE INDEX scan_upstreams_tenant_name_idx ON scan_upstreams (tenant_id, name, url)`);
    await q.query(`
      INSERT INTO scan_upstreams (tenant_id, source_id, name, url, transport, agent, scan_id, seen_at)
      SELECT DISTINCT ON (l.tenant_id, l.source_id, srv->>'name', srv->>'url')
             l.tenant_id, l.source_id, srv->>'name', srv->>'url', srv->>'transport',
             left(coalesce(nullif(l.report->'endpoint'->>'hostname', ''), l.source_id), 500), l.id, l.created_at
        FROM (SELECT DISTINCT ON (tenant_id, source_id) tenant_id, source_id, id, kind, created_at, report
                FROM scans ORDER BY tenant_id, source_id, created_at DESC, id DESC) l
        CROSS JOIN LATERAL jsonb_array_elements(l.report->'agents') agent
        CROSS JOIN LATERAL jsonb_array_elements(agent->'servers') srv
       WHERE NOT (l.kind = 'job' AND l.source_id LIKE 'control-plane:%')
         AND srv->>'transport' IN ('http', 'https', 'sse') AND srv->>'url' ~ '^https?://'
         AND length(srv->>'name') > 0
       ORDER BY l.tenant_id, l.source_id, srv->>'name', srv->>'url', agent->>'name'`);
    const unnamed = (await q.query(
      `SELECT s.tenant_id, s.name, s.url, min(s.transport) AS transport, min(s.seen_at) AS seen_at
         FROM scan_upstreams s
        WHERE NOT EXISTS (SELECT 1 FROM upstream_names u
                           WHERE u.tenant_id = s.tenant_id AND u.base_name = s.name AND u.url = s.url)
        GROUP BY s.tenant_id, s.name, s.url
        ORDER BY s.tenant_id, min(s.seen_at), s.name, s.url`,
    )) as Array<{ tenant_id: string; name: string; url: string; transport: string; seen_at: Date }>;
    for (const pair of unnamed) {
      const [{ next }] = (await q.query(
        `SELECT coalesce(max(ordinal) + 1, 0) AS next FROM upstream_names WHERE tenant_id = $1 AND base_name = $2`,
        [pair.tenant_id, pair.name],
      )) as Array<{ next: number }>;
      for (let ordinal = next; ; ordinal++) {
        const inserted = (await q.query(
          `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
          [
            pair.tenant_id,
            pair.name,
            pair.url,
            upstreamName(pair.name, ordinal),
            ordinal,
            pair.seen_at,
            pair.transport,
          ],
        )) as unknown[];
        if (inserted.length === 1) break;
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // Names handed out stay registered (a gateway may route them; a fleet report may use them later).
    await q.query(`DROP TABLE scan_upstreams`);
  }
}
