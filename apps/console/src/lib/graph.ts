import { IMPACT_GROUPS, IMPACT_GROUP_TYPES } from '../../../../libs/contracts/src/index.js';
import { api, qs } from './api';
import type { GraphAnswer, GraphEdgeView, GraphImpactView, GraphNode, GraphPageView } from './types';

const drawn = (edges: GraphEdgeView[]) => edges.map((e) => ({ source: e.src, target: e.dst, kind: e.kind }));

/** The API's graph page in the shape the graph view draws. */
export function toGraph(page: GraphPageView): GraphAnswer {
  return { nodes: page.nodes.map((n) => ({ ...n })), edges: drawn(page.edges), truncated: page.truncated };
}

/**
 * A node's blast radius as a graph, from `/v1/graph/impact` alone: the node, what it reaches (typed by the group
 * the answer lists it in) and the stored edges between them, so what is drawn is exactly what the API answered.
 */
export async function impactGraph(node: string): Promise<GraphAnswer> {
  const impact = await api<GraphImpactView>('/v1/graph/impact' + qs({ node }));
  const nodes: GraphNode[] = [{ ...impact.node }];
  for (const group of IMPACT_GROUPS)
    for (const n of impact[group]) nodes.push({ ...n, type: IMPACT_GROUP_TYPES[group] });
  return { nodes, edges: drawn(impact.edges), counts: impact.counts };
}
