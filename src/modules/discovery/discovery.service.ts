import { Injectable } from '@nestjs/common';
import { upstreamBaseName, type DiscoveryAnswer } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DiscoveryAnswers, type DiscoveredSet } from './discovery-answers.js';
import { DiscoveryRepository, type DiscoveredRow } from './discovery.repository.js';
import { UpstreamApprovalService } from './upstream-approval.service.js';

/**
 * `GET /v1/gateway/upstreams/discovered`. `auth` is always "none": discovery never sees credentials; gateways
 * overlay them locally. Every name is one a gateway routes at `/mcp/<name>` (`upstreamName` in libs/contracts:
 * `My Server` is `My-Server`). Two URLs under one name are both listed (the first seen keeps the bare name, later
 * ones `-1`, `-2`, … forever) and reported in `conflicts` for the operator to reconcile. `approval` (added after
 * the seed) says whether a gateway may route the upstream.
 *
 * The rows and conflicts are kept per tenant until a commit changes them ({@link DiscoveryAnswers}); the
 * approvals are read per request (two small reads, in parallel with the generation read that checks the rows).
 */
@Injectable()
export class DiscoveryService {
  constructor(
    private readonly repository: DiscoveryRepository,
    private readonly approvals: UpstreamApprovalService,
    private readonly answers: DiscoveryAnswers,
  ) {}

  async discovered(principal: Principal): Promise<DiscoveryAnswer> {
    const tenantId = principal.tenantId;
    const [{ rows, conflicts }, approval] = await Promise.all([
      this.answers.answer(tenantId, async () => {
        const { generation, rows } = await this.repository.discoveredAt(tenantId);
        return { generation, value: withConflicts(rows) };
      }),
      this.approvals.resolver(tenantId),
    ]);
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
        approval: approval(r.name, r.url).state,
      })),
      conflicts,
    };
  }
}

/** The rows with their conflicts: names that clash once made routable (`My Server` and `My-Server`) are one. */
function withConflicts(rows: DiscoveredRow[]): DiscoveredSet {
  const byBase = new Map<string, DiscoveredRow[]>();
  for (const row of rows) {
    const base = upstreamBaseName(row.base_name);
    const group = byBase.get(base);
    if (group) group.push(row);
    else byBase.set(base, [row]);
  }
  const conflicts = [...byBase.entries()]
    .filter(([, group]) => group.length > 1)
    .map(([name, group]) => ({
      name,
      upstreams: [...group]
        .sort((a, b) => a.ordinal - b.ordinal || a.name.localeCompare(b.name))
        .map((r) => ({ name: r.name, url: r.url })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { rows, conflicts };
}
