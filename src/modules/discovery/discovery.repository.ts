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

/** At most this many source agents are listed per upstream; `source_agent_count` has the full number. */
export const SOURCE_AGENTS_LISTED = 100;

@Injectable()
export class DiscoveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Remote upstreams the tenant's current inventory reports, under their registered stable names: what its
   * endpoints' fleet syncs report and what the newest stored scan of each source reports (`scan_upstreams`), one
   * entry per (name, url) whoever reported it. One set-based statement: the remote rows are read once (indexes on
   * tenant, name, url), grouped per (name, url), and the first {@link SOURCE_AGENTS_LISTED} reporting sources
   * are ranked per group; no per-upstream subqueries. A source is counted once however it reported (an endpoint
   * that syncs and scans under one source id is one source agent, named by its fleet hostname); its label is the
   * endpoint's hostname, else its source id. stdio servers never appear. The transport is the one registered with
   * the name (the first report of the pair), so no later report can change how the upstream is routed.
   */
  discovered(tenantId: string): Promise<DiscoveredRow[]> {
    return this.dataSource.query(
      `WITH remote AS (
         SELECT s.name, s.url, s.transport, e.source_id, coalesce(e.hostname, e.source_id) AS agent, 0 AS origin
           FROM fleet_servers s
           JOIN fleet_agents a ON a.id = s.agent_id
           JOIN fleet_endpoints e ON e.id = a.endpoint_id
          WHERE s.tenant_id = $1 AND s.transport IN ('http', 'https', 'sse')
         UNION ALL
         SELECT name, url, transport, source_id, agent, 1 AS origin
           FROM scan_upstreams WHERE tenant_id = $1
       ), grouped AS (
         SELECT name, url, mode() WITHIN GROUP (ORDER BY transport) AS reported_transport,
                count(DISTINCT source_id)::int AS source_agent_count
           FROM remote GROUP BY name, url
       ), sources AS (
         SELECT DISTINCT ON (name, url, source_id) name, url, agent
           FROM remote ORDER BY name, url, source_id, origin
       ), ranked AS (
         SELECT name, url, agent, row_number() OVER (PARTITION BY name, url ORDER BY agent) AS rank
           FROM (SELECT DISTINCT name, url, agent FROM sources) d
       ), listed AS (
         SELECT name, url, array_agg(agent ORDER BY agent) AS source_agents
           FROM ranked WHERE rank <= ${SOURCE_AGENTS_LISTED} GROUP BY name, url
       )
       SELECT u.assigned_name AS name, u.base_name, u.url, u.ordinal,
              coalesce(u.transport, g.reported_transport) AS transport, g.source_agent_count,
              l.source_agents
         FROM grouped g
         JOIN listed l ON l.name = g.name AND l.url = g.url
         JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = g.name AND u.url = g.url
        ORDER BY u.assigned_name`,
      [tenantId],
    );
  }
}
