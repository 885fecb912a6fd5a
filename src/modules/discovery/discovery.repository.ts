import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DiscoveredRow {
  name: string;
  base_name: string;
  url: string;
  ordinal: number;
  transport: 'http' | 'https' | 'sse';
  source_agents: string[];
}

@Injectable()
export class DiscoveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Remote upstreams the tenant's current inventory reports, under their registered stable names.
   * One statement over the registry and the inventory; the database does the grouping. A source agent is the
   * reporting endpoint's hostname (its source id when no hostname was sent). stdio servers never appear.
   */
  discovered(tenantId: string): Promise<DiscoveredRow[]> {
    return this.dataSource.query(
      `SELECT u.assigned_name AS name, u.base_name, u.url, u.ordinal,
              mode() WITHIN GROUP (ORDER BY s.transport) AS transport,
              array_agg(DISTINCT coalesce(e.hostname, e.source_id) ORDER BY coalesce(e.hostname, e.source_id))
                AS source_agents
         FROM upstream_names u
         JOIN fleet_servers s ON s.tenant_id = u.tenant_id AND s.name = u.base_name AND s.url = u.url
                             AND s.transport IN ('http', 'https', 'sse')
         JOIN fleet_agents a ON a.id = s.agent_id
         JOIN fleet_endpoints e ON e.id = a.endpoint_id
        WHERE u.tenant_id = $1
        GROUP BY u.assigned_name, u.base_name, u.url, u.ordinal
        ORDER BY u.assigned_name`,
      [tenantId],
    );
  }
}
