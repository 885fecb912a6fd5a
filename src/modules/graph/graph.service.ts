import { Injectable } from '@nestjs/common';
import type { Principal } from '../../core/auth/principal.js';
import { invalid, notFound } from '../../core/errors/domain-error.js';
import { GraphRepository } from './graph.repository.js';

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const NODE_ID = /^(endpoint|agent|server|pkg|vuln|tool|cred):[^\u0000-\u001f]{1,2000}$/;

@Injectable()
export class GraphService {
  constructor(private readonly graph: GraphRepository) {}

  async graphPage(principal: Principal, query: { limit?: number; type?: string }) {
    return this.graph.page(principal.tenantId, query.limit ?? 1000, query.type);
  }

  /**
   * "Which endpoints, agents, servers, tools and credentials does this vulnerability or package expose?"
   * Unknown nodes (and other tenants' nodes) are 404.
   */
  async impact(principal: Principal, nodeId: string) {
    if (!NODE_ID.test(nodeId))
      throw invalid('node', 'must be a graph node id (endpoint:|agent:|server:|pkg:|vuln:|tool:|cred:…)');
    const node = await this.graph.node(principal.tenantId, nodeId);
    if (!node) throw notFound('graph node');
    const reached = (await this.graph.impact(principal.tenantId, nodeId)).filter((n) => n.id !== nodeId);
    const of = (type: string) =>
      reached
        .filter((n) => n.type === type)
        .map((n) => ({
          id: n.id,
          label: n.label,
          depth: n.depth,
          ...(n.severity ? { severity: n.severity } : {}),
        }));
    const result = {
      node,
      endpoints: of('endpoint'),
      agents: of('agent'),
      servers: of('server'),
      packages: of('package'),
      vulnerabilities: of('vulnerability'),
      tools: of('tool'),
      credentials: of('credential'),
    };
    return {
      ...result,
      counts: Object.fromEntries(
        Object.entries(result)
          .filter(([k]) => k !== 'node')
          .map(([k, v]) => [k, (v as unknown[]).length]),
      ),
    };
  }
}
