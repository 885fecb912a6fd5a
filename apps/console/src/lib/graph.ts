import { api, qs } from './api';
import type { GraphAnswer, GraphNode } from './types';

/** `GET /v1/graph`: nodes and the edges between them (`src` → `dst`), as stored per tenant. */
interface GraphPage {
  nodes: GraphNode[];
  edges: { src: string; dst: string; kind: string }[];
  truncated: boolean;
}

/** `GET /v1/graph/impact?node=`: the node and what it reaches, by type (no edges). */
interface ImpactAnswer {
  node: GraphNode;
  [type: string]: unknown;
}

const REACHED = ['endpoints', 'agents', 'servers', 'packages', 'vulnerabilities', 'tools', 'credentials'];

/** The API's graph page in the shape the graph view draws. */
export function toGraph(page: GraphPage): GraphAnswer {
  return {
    nodes: page.nodes,
    edges: page.edges.map((e) => ({ source: e.src, target: e.dst, kind: e.kind })),
    truncated: page.truncated,
  };
}

/**
 * A node's blast radius as a graph: the nodes `/v1/graph/impact` says it reaches, joined by the stored edges
 * between them (`/v1/graph`), so what is drawn is exactly what the API answered.
 */
export async function impactGraph(node: string): Promise<GraphAnswer> {
  const [impact, page] = await Promise.all([
    api<ImpactAnswer>('/v1/graph/impact' + qs({ node })),
    api<GraphPage>('/v1/graph' + qs({ limit: 5000 })),
  ]);
  const nodes = new Map<string, GraphNode>([[impact.node.id, impact.node]]);
  for (const type of REACHED) {
    for (const n of (impact[type] as GraphNode[] | undefined) ?? []) nodes.set(n.id, n);
  }
  const edges = page.edges
    .filter((e) => nodes.has(e.src) && nodes.has(e.dst))
    .map((e) => ({ source: e.src, target: e.dst, kind: e.kind }));
  return { nodes: [...nodes.values()], edges, counts: impact.counts };
}
