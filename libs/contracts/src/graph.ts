/** The inventory graph and blast radius: the answers of `GET /v1/graph` and `GET /v1/graph/impact?node=`. */

export const GRAPH_NODE_TYPES = [
  'endpoint',
  'agent',
  'server',
  'package',
  'vulnerability',
  'tool',
  'credential',
] as const;
export type GraphNodeType = (typeof GRAPH_NODE_TYPES)[number];

export const GRAPH_EDGE_KINDS = [
  'has_agent',
  'configures',
  'runs',
  'affected_by',
  'exposes',
  'uses_credential',
] as const;
export type GraphEdgeKind = (typeof GRAPH_EDGE_KINDS)[number];

/**
 * A node. Ids are readable and stable: `endpoint:<source>`, `agent:<source>/<agent>`,
 * `server:<source>/<agent>/<server>`, `pkg:<purl>`, `vuln:<advisory id>`, `tool:<server id>/<tool>`,
 * `cred:<server id>/<name>`.
 */
export interface GraphNodeView {
  id: string;
  type: GraphNodeType;
  label: string;
  /** Vulnerabilities only. */
  severity: string | null;
}

/** A directed edge `src` → `dst` (endpoint → agent → server → package → vulnerability, server → tool|credential). */
export interface GraphEdgeView {
  src: string;
  dst: string;
  kind: GraphEdgeKind;
}

/** `GET /v1/graph`: nodes (by type, then id) and the edges between them. */
export interface GraphPageView {
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
  truncated: boolean;
}

/** A node the blast radius reaches, `depth` hops from the asked node. */
export interface ImpactNodeView {
  id: string;
  label: string;
  depth: number;
  severity?: string;
}

/** The groups of an impact answer, in answer order, one per node type. */
export const IMPACT_GROUPS = [
  'endpoints',
  'agents',
  'servers',
  'packages',
  'vulnerabilities',
  'tools',
  'credentials',
] as const;
export type ImpactGroup = (typeof IMPACT_GROUPS)[number];

/** The node type of each impact group (its items carry no `type` of their own). */
export const IMPACT_GROUP_TYPES: Readonly<Record<ImpactGroup, GraphNodeType>> = {
  endpoints: 'endpoint',
  agents: 'agent',
  servers: 'server',
  packages: 'package',
  vulnerabilities: 'vulnerability',
  tools: 'tool',
  credentials: 'credential',
};

/**
 * `GET /v1/graph/impact?node=`: what the node reaches, by type, and `edges`: every stored edge between two
 * nodes of the answer (the asked node included), so a client draws the blast radius from this answer alone.
 */
export type GraphImpactView = { node: GraphNodeView } & Record<ImpactGroup, ImpactNodeView[]> & {
    edges: GraphEdgeView[];
    counts: Record<ImpactGroup, number>;
  };
