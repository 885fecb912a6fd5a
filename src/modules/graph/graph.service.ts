import { Injectable } from '@nestjs/common';
import {
  IMPACT_GROUPS,
  IMPACT_GROUP_TYPES,
  type GraphImpactView,
  type GraphNodeType,
  type ImpactGroup,
  type ImpactNodeView,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { invalid, notFound } from '../../core/errors/domain-error.js';
import { GraphRepository } from './graph.repository.js';

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const NODE_ID = /^(endpoint|agent|server|pkg|vuln|tool|cred):[^\u0000-\u001f]{1,2000}$/;

/** The answer group of each node type. */
const GROUP_OF = Object.fromEntries(
  IMPACT_GROUPS.map((group) => [IMPACT_GROUP_TYPES[group], group]),
) as Record<GraphNodeType, ImpactGroup>;

@Injectable()
export class GraphService {
  constructor(private readonly graph: GraphRepository) {}

  async graphPage(principal: Principal, query: { limit?: number; type?: string }) {
    return this.graph.page(principal.tenantId, query.limit ?? 1000, query.type);
  }

  /**
   * "Which endpoints, agents, servers, tools and credentials does this vulnerability or package expose?", with
   * the edges between them. Unknown nodes (and other tenants' nodes) are 404.
   */
  async impact(principal: Principal, nodeId: string): Promise<GraphImpactView> {
    if (!NODE_ID.test(nodeId))
      throw invalid('node', 'must be a graph node id (endpoint:|agent:|server:|pkg:|vuln:|tool:|cred:…)');
    const { nodes, edges } = await this.graph.impact(principal.tenantId, nodeId);
    const root = nodes.find((n) => n.id === nodeId);
    if (!root) throw notFound('graph node');
    const groups = Object.fromEntries(IMPACT_GROUPS.map((g) => [g, [] as ImpactNodeView[]])) as Record<
      ImpactGroup,
      ImpactNodeView[]
    >;
    for (const n of nodes) {
      if (n.id === nodeId) continue;
      groups[GROUP_OF[n.type]].push({
        id: n.id,
        label: n.label,
        depth: n.depth,
        ...(n.severity ? { severity: n.severity } : {}),
      });
    }
    const node = { id: root.id, type: root.type, label: root.label, severity: root.severity };
    const counts = Object.fromEntries(IMPACT_GROUPS.map((g) => [g, groups[g].length])) as Record<
      ImpactGroup,
      number
    >;
    return { node, ...groups, edges, counts };
  }
}
