import type { GraphEdgeView, GraphNodeType } from '../../../libs/contracts/src/index.js';
import type { ResultsPush } from '../scans/results-push.schema.js';

export interface GraphNode {
  id: string;
  type: GraphNodeType;
  label: string;
  severity?: string;
}

export type GraphEdge = GraphEdgeView;

/**
 * The graph of one pushed scan. Node ids are readable and stable: `endpoint:<source>`,
 * `agent:<source>/<agent>`, `server:<source>/<agent>/<server>`, `pkg:<purl>` (the purl itself),
 * `vuln:<advisory id>`, `tool:<server id>/<tool>`, `cred:<server id>/<name>`.
 */
export function graphOfScan(report: ResultsPush): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const node = (n: GraphNode) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const edge = (src: string, dst: string, kind: GraphEdge['kind']) =>
    edges.set(`${src}\u0000${dst}`, { src, dst, kind });
  const source = report.source_id;
  const endpoint = node({
    id: `endpoint:${source}`,
    type: 'endpoint',
    label: String(report.endpoint?.hostname ?? source),
  });
  const serverIds = new Map<string, string>();
  for (const agent of report.agents) {
    const agentId = node({ id: `agent:${source}/${agent.name}`, type: 'agent', label: agent.name });
    edge(endpoint, agentId, 'has_agent');
    for (const server of agent.servers) {
      const serverId = node({
        id: `server:${source}/${agent.name}/${server.name}`,
        type: 'server',
        label: server.name,
      });
      serverIds.set(`${agent.name}/${server.name}`, serverId);
      edge(agentId, serverId, 'configures');
      const introspected = (server.introspection as { tools?: unknown } | undefined)?.tools;
      const tools = new Set([
        ...(server.declared_tools ?? []),
        ...(Array.isArray(introspected)
          ? introspected.filter((t): t is string => typeof t === 'string')
          : []),
      ]);
      for (const tool of tools)
        edge(serverId, node({ id: `tool:${serverId}/${tool}`, type: 'tool', label: tool }), 'exposes');
      for (const cred of [
        ...(server.credential_env_names ?? []),
        ...(server.credential_header_names ?? []),
      ]) {
        edge(
          serverId,
          node({ id: `cred:${serverId}/${cred}`, type: 'credential', label: cred }),
          'uses_credential',
        );
      }
    }
  }
  for (const pkg of report.packages) {
    const pkgId = node({
      id: pkg.purl,
      type: 'package',
      label: pkg.version ? `${pkg.name}@${pkg.version}` : pkg.name,
    });
    for (const ref of pkg.servers) {
      const serverId = serverIds.get(ref);
      if (serverId) edge(serverId, pkgId, 'runs');
    }
    // A package only locked in a project (no server runs it) still belongs to the endpoint.
    if (!pkg.servers.length) edge(endpoint, pkgId, 'runs');
  }
  for (const f of report.findings) {
    if (f.kind !== 'vulnerability' || !f.advisory_id || !nodes.has(f.subject)) continue;
    const vulnId = node({
      id: `vuln:${f.advisory_id}`,
      type: 'vulnerability',
      label: f.advisory_id,
      severity: f.severity,
    });
    edge(f.subject, vulnId, 'affected_by');
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
