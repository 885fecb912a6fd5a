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
   * Remote upstreams the tenant's current inventory reports, under their registered stable names.
   * One set-based statement: the remote rows are read once (index on tenant, name, url), grouped per
   * (name, url), and the first {@link SOURCE_AGENTS_LISTED} reporting endpoints are ranked per group; no
   * per-upstream subqueries. A source agent is the endpoint's hostname (its source id when none was sent).
   * stdio servers never appear. The transport is the one registered with the name (the first report of the
   * pair), so no later report can change how the upstream is routed.
   */
  discovered(tenantId: string): Promise<DiscoveredRow[]> {
    return this.dataSource.query(
      `WITH remote AS (
         SELECT s.name, s.url, s.transport, a.endpoint_id
           FROM fleet_servers s JOIN fleet_agents a ON a.id = s.agent_id
          WHERE s.tenant_id = $1 AND s.transport IN ('http', 'https', 'sse')
       ), grouped AS (
         SELECT name, url, mode() WITHIN GROUP (ORDER BY transport) AS reported_transport,
                count(DISTINCT endpoint_id)::int AS source_agent_count
           FROM remote GROUP BY name, url
       ), ranked AS (
         SELECT name, url, agent, row_number() OVER (PARTITION BY name, url ORDER BY agent) AS rank
           FROM (SELECT DISTINCT r.name, r.url, coalesce(e.hostname, e.source_id) AS agent
                   FROM remote r JOIN fleet_endpoints e ON e.id = r.endpoint_id) d
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
