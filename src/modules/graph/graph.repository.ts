import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../../core/database/transactions.js';
import type { GraphEdge, GraphNode } from './graph-build.js';

/** Depth bound of blast-radius walks: endpoint → agent → server → package → vulnerability is 4 hops. */
export const IMPACT_MAX_DEPTH = 8;

/** The tenant's inventory graph; every method is scoped by the tenant it takes first. */
@Injectable()
export class GraphRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Replaces the edges one source contributed; nodes are upserted (shared between sources). */
  async replaceSource(
    tenantId: string,
    sourceId: string,
    nodes: GraphNode[],
    edges: GraphEdge[],
    tx: Tx,
  ): Promise<void> {
    const gone = (await tx.manager.query(
      `WITH gone AS (DELETE FROM graph_edges WHERE tenant_id = $1 AND source_id = $2 RETURNING src, dst)
       SELECT src AS id FROM gone UNION SELECT dst FROM gone`,
      [tenantId, sourceId],
    )) as Array<{ id: string }>;
    if (nodes.length) {
      await tx.manager.query(
        `INSERT INTO graph_nodes (tenant_id, id, type, label, severity)
         SELECT $1, n->>'id', n->>'type', n->>'label', n->>'severity' FROM jsonb_array_elements($2::jsonb) AS n
         ON CONFLICT (tenant_id, id) DO UPDATE SET label = EXCLUDED.label, severity = COALESCE(EXCLUDED.severity, graph_nodes.severity)`,
        [tenantId, JSON.stringify(nodes)],
      );
    }
    if (edges.length) {
      await tx.manager.query(
        `INSERT INTO graph_edges (tenant_id, source_id, src, dst, kind)
         SELECT $1, $2, e->>'src', e->>'dst', e->>'kind' FROM jsonb_array_elements($3::jsonb) AS e`,
        [tenantId, sourceId, JSON.stringify(edges)],
      );
    }
    // Nodes no source reaches any more go too (an endpoint that dropped a server). Only nodes this source's old
    // edges touched can have become orphans; each check is two index probes (an OR here scans every edge).
    if (gone.length) {
      await tx.manager.query(
        `DELETE FROM graph_nodes n WHERE n.tenant_id = $1 AND n.id = ANY($2::text[])
            AND NOT EXISTS (SELECT 1 FROM graph_edges e WHERE e.tenant_id = $1 AND e.src = n.id)
            AND NOT EXISTS (SELECT 1 FROM graph_edges e WHERE e.tenant_id = $1 AND e.dst = n.id)`,
        [tenantId, gone.map((g) => g.id)],
      );
    }
  }

  async node(
    tenantId: string,
    id: string,
  ): Promise<{ id: string; type: string; label: string; severity: string | null } | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT id, type, label, severity FROM graph_nodes WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    )) as Array<{
      id: string;
      type: string;
      label: string;
      severity: string | null;
    }>;
    return rows[0];
  }

  /**
   * Blast radius of `nodeId`: everything upstream of it (who runs it: packages, servers, agents, endpoints) by
   * a recursive walk over reverse edges, plus what those servers expose (tools, credential names) and, for a
   * package or server, the vulnerabilities downstream. One statement; UNION stops cycles.
   */
  async impact(
    tenantId: string,
    nodeId: string,
  ): Promise<Array<{ id: string; type: string; label: string; severity: string | null; depth: number }>> {
    return (await this.dataSource.query(
      `WITH RECURSIVE up(id, depth) AS (
         SELECT $2::text, 0
         UNION
         SELECT e.src, up.depth + 1 FROM graph_edges e JOIN up ON e.tenant_id = $1 AND e.dst = up.id
          WHERE up.depth < $3
       ),
       down(id, depth) AS (
         SELECT $2::text, 0
         UNION
         SELECT e.dst, down.depth + 1 FROM graph_edges e JOIN down ON e.tenant_id = $1 AND e.src = down.id
          WHERE down.depth < $3 AND e.kind IN ('runs', 'affected_by')
       ),
       reached AS (
         SELECT id, min(depth) AS depth FROM (SELECT * FROM up UNION ALL SELECT * FROM down) r GROUP BY id
       ),
       exposed AS (
         SELECT e.dst AS id, min(r.depth) + 1 AS depth FROM graph_edges e
           JOIN reached r ON e.tenant_id = $1 AND e.src = r.id AND e.kind IN ('exposes', 'uses_credential')
          GROUP BY e.dst
       )
       SELECT n.id, n.type, n.label, n.severity, x.depth
         FROM (SELECT * FROM reached UNION ALL SELECT * FROM exposed) x
         JOIN graph_nodes n ON n.tenant_id = $1 AND n.id = x.id
        ORDER BY x.depth, n.type, n.id`,
      [tenantId, nodeId, IMPACT_MAX_DEPTH],
    )) as Array<{ id: string; type: string; label: string; severity: string | null; depth: number }>;
  }

  async page(tenantId: string, limit: number, type?: string) {
    const nodes = (await this.dataSource.query(
      `SELECT id, type, label, severity FROM graph_nodes WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY type, id LIMIT $3`,
      [tenantId, type ?? null, limit + 1],
    )) as Array<{ id: string; type: string; label: string; severity: string | null }>;
    const ids = nodes.slice(0, limit).map((n) => n.id);
    const edges = (await this.dataSource.query(
      `SELECT DISTINCT src, dst, kind FROM graph_edges WHERE tenant_id = $1 AND src = ANY($2::text[]) AND dst = ANY($2::text[]) ORDER BY src, dst`,
      [tenantId, ids],
    )) as Array<{ src: string; dst: string; kind: string }>;
    return { nodes: nodes.slice(0, limit), edges, truncated: nodes.length > limit };
  }
}
