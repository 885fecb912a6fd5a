import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DiscoveredRow {
  name: string;
  base_name: string;
  url: string;
  ordinal: number;
  transport: 'http' | 'https' | 'sse';
  source_agents: string[];
  source_agent_count: number;
}

/** A tenant's generation rows are folded into one when a read finds more than this many. */
export const GENERATION_ROWS = 32;

/** At most this many source agents are listed per upstream; `source_agent_count` has the full number. */
export const SOURCE_AGENTS_LISTED = 100;

@Injectable()
export class DiscoveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The tenant's discovery generation (the sum of its `discovery_generations` rows, migration DiscoveryGenerations):
   * moved forward by every commit that changes what {@link discovered} aggregates; 0 before the first. One index
   * read of a few rows; when there are more than {@link GENERATION_ROWS}, they are folded into one in the background.
   */
  async generation(tenantId: string): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT coalesce(sum(n), 0) AS generation, count(*)::int AS rows
         FROM discovery_generations WHERE tenant_id = $1`,
      [tenantId],
    )) as Array<{ generation: string; rows: number }>;
    if (row.rows > GENERATION_ROWS) void this.compact(tenantId).catch(() => undefined);
    return Number(row.generation);
  }

  /**
   * Folds the tenant's generation rows into one, in one statement: the rows it deletes and the one it inserts are
   * one commit, so every snapshot sums the same generation before and after, and rows inserted meanwhile (not in
   * its snapshot) are left as they are. Two at once: the second deletes only what the first left.
   */
  async compact(tenantId: string): Promise<void> {
    await this.dataSource.query(
      `WITH gone AS (DELETE FROM discovery_generations WHERE tenant_id = $1 RETURNING n)
       INSERT INTO discovery_generations (tenant_id, n) SELECT $1, sum(n) FROM gone HAVING count(*) > 0`,
      [tenantId],
    );
  }

  /**
   * {@link discovered} with the tenant's {@link generation}, in one statement and so one snapshot: the rows are
   * exactly those of that generation.
   */
  async discoveredAt(tenantId: string): Promise<{ generation: number; rows: DiscoveredRow[] }> {
    const rows = (await this.dataSource.query(
      `SELECT (SELECT coalesce(sum(n), 0) FROM discovery_generations WHERE tenant_id = $1) AS generation, d.*
         FROM (SELECT 1) one LEFT JOIN (${DISCOVERED}) d ON true
        ORDER BY d.name`,
      [tenantId],
    )) as Array<DiscoveredRow & { generation: string }>;
    return {
      generation: rows.length ? Number(rows[0].generation) : 0,
      rows: rows.filter((row) => row.name !== null).map(({ generation: _generation, ...row }) => row),
    };
  }

  /**
   * Remote upstreams the tenant's current inventory reports, under their registered stable names: what its
   * endpoints' fleet syncs report and what the newest stored scan of each source reports (`scan_upstreams`), one
   * entry per (name, url) whoever reported it. One set-based statement, no per-row joins it does not need:
   * - fleet servers are reduced to one row per (name, url, endpoint) (hash aggregate on the partial remote index's
   *   rows) before the endpoint is joined for its label, so an endpoint with many agents reporting one upstream is
   *   one source;
   * - a scan source is added only where no fleet endpoint with its source id reports that (name, url) (anti-join;
   *   an agent's `source_id` is its endpoint's, as the sync writes it), so the per-group row count is the count
   *   of distinct source agents without a DISTINCT sort and the fleet hostname wins over the scan's label;
   * - each group keeps its labels in one array, and the first {@link SOURCE_AGENTS_LISTED} distinct labels are
   *   taken per group from that array (no window over every source sorted by name, url and label);
   * - the transport is the one registered with the name (the first report of the pair), so no later report can
   *   change how the upstream is routed; only a legacy name without one falls back to the most reported transport,
   *   computed for that name alone.
   * stdio servers never appear. A source's label is the endpoint's hostname, else its source id.
   */
  discovered(tenantId: string): Promise<DiscoveredRow[]> {
    return this.dataSource.query(DISCOVERED, [tenantId]);
  }
}

/** The query of {@link DiscoveryRepository.discovered} (`$1`: the tenant). */
const DISCOVERED = `WITH grouped AS (
    SELECT name, url, count(*)::int AS source_agent_count, array_agg(agent) AS agents
      FROM (SELECT f.name, f.url, coalesce(e.hostname, e.source_id) AS agent
              FROM (SELECT DISTINCT s.name, s.url, a.endpoint_id
                      FROM fleet_servers s JOIN fleet_agents a ON a.id = s.agent_id
                     WHERE s.tenant_id = $1 AND s.transport IN ('http', 'https', 'sse')) f
              JOIN fleet_endpoints e ON e.id = f.endpoint_id
            UNION ALL
            SELECT su.name, su.url, su.agent FROM scan_upstreams su
             WHERE su.tenant_id = $1
               AND NOT EXISTS (
                 SELECT 1 FROM fleet_endpoints e
                   JOIN fleet_agents a ON a.tenant_id = $1 AND a.source_id = e.source_id AND a.endpoint_id = e.id
                   JOIN fleet_servers s ON s.agent_id = a.id
                  WHERE e.tenant_id = $1 AND e.source_id = su.source_id AND s.tenant_id = $1
                    AND s.name = su.name AND s.url = su.url AND s.transport IN ('http', 'https', 'sse'))) sources
     GROUP BY name, url
  )
  SELECT u.assigned_name AS name, u.base_name, u.url, u.ordinal,
         coalesce(u.transport, (
           SELECT mode() WITHIN GROUP (ORDER BY r.transport) FROM (
             SELECT s.transport FROM fleet_servers s
              WHERE s.tenant_id = $1 AND s.name = u.base_name AND s.url = u.url
                AND s.transport IN ('http', 'https', 'sse')
             UNION ALL
             SELECT su.transport FROM scan_upstreams su
              WHERE su.tenant_id = $1 AND su.name = u.base_name AND su.url = u.url) r)) AS transport,
         g.source_agent_count,
         (SELECT array_agg(l.agent ORDER BY l.agent) FROM (
            SELECT d.agent FROM (SELECT DISTINCT x AS agent FROM unnest(g.agents) x) d
             ORDER BY d.agent LIMIT ${SOURCE_AGENTS_LISTED}) l) AS source_agents
    FROM grouped g
    JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = g.name AND u.url = g.url
   ORDER BY u.assigned_name`;
