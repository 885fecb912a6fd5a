import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { GraphNodeView, GraphPageView } from '../../../libs/contracts/src/index.js';
import type { Tx } from '../../core/database/transactions.js';
import type { GraphEdge, GraphNode } from './graph-build.js';

/** A node the blast radius reaches, `depth` hops from the asked one (which is itself at depth 0). */
export interface ImpactRow {
  id: string;
  type: GraphNode['type'];
  label: string;
  severity: string | null;
  depth: number;
}

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

  /**
   * Blast radius of `nodeId` in one statement: everything upstream of it (who runs it: packages, servers, agents,
   * endpoints) by a recursive walk over reverse edges, plus what those servers expose (tools, credential names)
   * and, for a package or server, the vulnerabilities downstream; and every edge between two reached nodes.
   * UNION stops cycles. The node itself comes back at depth 0; no nodes means no such node in this tenant.
   * Each step takes the previous one's ids as an array (`= ANY(ARRAY(…))`): the planner cannot estimate a
   * recursive CTE's size, and a plain join to it hash-joins whole-table scans where a few index probes do.
   */
  async impact(tenantId: string, nodeId: string): Promise<{ nodes: ImpactRow[]; edges: GraphEdge[] }> {
    const [row] = (await this.dataSource.query(
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
         SELECT e.dst AS id, r.depth + 1 AS depth FROM graph_edges e JOIN reached r ON r.id = e.src
          WHERE e.tenant_id = $1 AND e.src = ANY (ARRAY(SELECT id FROM reached))
            AND e.kind IN ('exposes', 'uses_credential')
       ),
       depths AS (
         SELECT id, min(depth) AS depth FROM (SELECT * FROM reached UNION ALL SELECT * FROM exposed) x GROUP BY id
       ),
       hit AS (
         SELECT n.id, n.type, n.label, n.severity, d.depth FROM graph_nodes n JOIN depths d ON d.id = n.id
          WHERE n.tenant_id = $1 AND n.id = ANY (ARRAY(SELECT id FROM depths))
       ),
       edges AS (
         SELECT DISTINCT e.src, e.dst, e.kind FROM graph_edges e
          WHERE e.tenant_id = $1 AND e.src = ANY (ARRAY(SELECT id FROM hit)) AND e.dst = ANY (ARRAY(SELECT id FROM hit))
       )
       SELECT (SELECT coalesce(json_agg(hit ORDER BY depth, type, id), '[]') FROM hit) AS nodes,
              (SELECT coalesce(json_agg(edges ORDER BY src, dst, kind), '[]') FROM edges) AS edges`,
      [tenantId, nodeId, IMPACT_MAX_DEPTH],
    )) as Array<{ nodes: ImpactRow[]; edges: GraphEdge[] }>;
    return row;
  }

  async page(tenantId: string, limit: number, type?: string): Promise<GraphPageView> {
    const nodes = (await this.dataSource.query(
      `SELECT id, type, label, severity FROM graph_nodes WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY type, id LIMIT $3`,
      [tenantId, type ?? null, limit + 1],
    )) as GraphNodeView[];
    const ids = nodes.slice(0, limit).map((n) => n.id);
    const edges = (await this.dataSource.query(
      `SELECT DISTINCT src, dst, kind FROM graph_edges WHERE tenant_id = $1 AND src = ANY($2::text[]) AND dst = ANY($2::text[]) ORDER BY src, dst`,
      [tenantId, ids],
    )) as GraphEdge[];
    return { nodes: nodes.slice(0, limit), edges, truncated: nodes.length > limit };
  }
}
