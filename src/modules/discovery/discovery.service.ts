import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal.js';
import { DiscoveryRepository } from './discovery.repository.js';

export interface DiscoveredUpstreams {
  tenant_id: string;
  source: 'fleet_scan_aggregate';
  generated_at: string;
  upstreams: Array<{
    name: string;
    url: string;
    transport: string;
    auth: 'none';
    /** Reporting endpoints, sorted; at most 100 (see source_agent_count). */
    source_agents: string[];
    source_agent_count: number;
  }>;
  conflicts: Array<{ name: string; upstreams: Array<{ name: string; url: string }> }>;
}

/**
 * `GET /v1/gateway/upstreams/discovered`. `auth` is always "none": discovery never sees credentials; gateways
 * overlay them locally. Two URLs under one name are both listed (the first seen keeps the bare name, later ones
 * `-1`, `-2`, … forever) and reported in `conflicts` for the operator to reconcile.
 */
@Injectable()
export class DiscoveryService {
  constructor(private readonly repository: DiscoveryRepository) {}

  async discovered(principal: Principal): Promise<DiscoveredUpstreams> {
    const rows = await this.repository.discovered(principal.tenantId);
    const byBase = new Map<string, typeof rows>();
    for (const row of rows) byBase.set(row.base_name, [...(byBase.get(row.base_name) ?? []), row]);
    const conflicts = [...byBase.entries()]
      .filter(([, group]) => group.length > 1)
      .map(([name, group]) => ({
        name,
        upstreams: [...group]
          .sort((a, b) => a.ordinal - b.ordinal)
          .map((r) => ({ name: r.name, url: r.url })),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      tenant_id: principal.tenantId,
      source: 'fleet_scan_aggregate',
      generated_at: new Date().toISOString(),
      upstreams: rows.map((r) => ({
        name: r.name,
        url: r.url,
        transport: r.transport,
        auth: 'none',
        source_agents: r.source_agents,
        source_agent_count: r.source_agent_count,
      })),
      conflicts,
    };
  }
}
