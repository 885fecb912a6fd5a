import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FleetIntrospection, FleetServerView, FleetWarning } from '../../../libs/contracts/src/index.js';
import type { ServerColumns } from './fleet-sync.repository.js';

export interface AgentRecord {
  id: string;
  source_id: string;
  client: string;
  name: string;
  config_paths: string[];
  first_seen_at: Date;
  last_seen_at: Date;
  server_count: number;
  hostname: string | null;
  os: string | null;
  os_release: string | null;
  owner: string | null;
  environment: string | null;
  tags: string[];
  inventory_warnings: FleetWarning[];
  last_synced_at: Date;
}

export interface ServerRecord extends ServerColumns {
  id: string;
  introspection: FleetIntrospection | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

/**
 * A row of {@link FleetReadRepository.serverGroups}: the API's server view with its times as read, its page key,
 * and `tools` holding live tools only (the mapper falls back to the declared ones).
 */
export interface FleetServerGroup extends Omit<FleetServerView, 'first_seen_at' | 'last_seen_at'> {
  group_key: string;
  first_seen_at: Date;
  last_seen_at: Date;
}

export interface AgentFilter {
  client?: string;
  sourceId?: string;
  environment?: string;
  transport?: string;
  search?: string;
  limit: number;
  after?: { at: Date; id: string };
}

export interface ServerFilter {
  transport?: string;
  authMode?: string;
  search?: string;
  limit: number;
  after?: { name: string; key: string };
}

/** `%` and `_` in user search text are literals, not wildcards. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const AGENT_COLUMNS = `
  a.id, a.source_id, a.client, a.name, a.config_paths, a.first_seen_at, a.last_seen_at,
  (SELECT count(*)::int FROM fleet_servers s WHERE s.agent_id = a.id) AS server_count,
  e.hostname, e.os, e.os_release, e.owner, e.environment, e.tags, e.inventory_warnings, e.last_synced_at`;

/** Fleet read queries; every one is scoped by the required tenant id. */
@Injectable()
export class FleetReadRepository {
  constructor(private readonly dataSource: DataSource) {}

  async listAgents(tenantId: string, filter: AgentFilter): Promise<AgentRecord[]> {
    const where = ['a.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.client) add('a.client = ?', filter.client);
    if (filter.sourceId) add('a.source_id = ?', filter.sourceId);
    if (filter.environment) add('e.environment = ?', filter.environment);
    if (filter.transport) {
      add(
        'EXISTS (SELECT 1 FROM fleet_servers s WHERE s.agent_id = a.id AND s.transport = ?)',
        filter.transport,
      );
    }
    if (filter.search) {
      params.push(likePattern(filter.search));
      const p = `$${params.length}`;
      where.push(`(a.name ILIKE ${p} OR e.hostname ILIKE ${p} OR a.source_id ILIKE ${p} OR EXISTS (
        SELECT 1 FROM fleet_servers s WHERE s.agent_id = a.id AND (s.name ILIKE ${p} OR s.url ILIKE ${p})))`);
    }
    if (filter.after) {
      params.push(filter.after.at, filter.after.id);
      where.push(`(a.last_seen_at, a.id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(filter.limit);
    return this.dataSource.query(
      `SELECT ${AGENT_COLUMNS}
         FROM fleet_agents a JOIN fleet_endpoints e ON e.id = a.endpoint_id
        WHERE ${where.join(' AND ')}
        ORDER BY a.last_seen_at DESC, a.id DESC
        LIMIT $${params.length}`,
      params,
    );
  }

  async findAgent(tenantId: string, id: string): Promise<AgentRecord | null> {
    const rows = (await this.dataSource.query(
      `SELECT ${AGENT_COLUMNS} FROM fleet_agents a JOIN fleet_endpoints e ON e.id = a.endpoint_id
        WHERE a.tenant_id = $1 AND a.id = $2`,
      [tenantId, id],
    )) as AgentRecord[];
    return rows[0] ?? null;
  }

  serversOfAgent(tenantId: string, agentId: string): Promise<ServerRecord[]> {
    return this.dataSource.query(
      `SELECT id, name, transport, command, args, url, declared_tools, auth_mode, credential_env_names,
              credential_header_names, config_path, scope, project_path, introspection, first_seen_at, last_seen_at
         FROM fleet_servers WHERE tenant_id = $1 AND agent_id = $2 ORDER BY name`,
      [tenantId, agentId],
    );
  }

  async stats(tenantId: string) {
    const [totals] = (await this.dataSource.query(
      `SELECT (SELECT count(*)::int FROM fleet_endpoints WHERE tenant_id = $1) AS endpoints,
              (SELECT count(*)::int FROM fleet_agents WHERE tenant_id = $1) AS agents,
              (SELECT count(*)::int FROM fleet_servers WHERE tenant_id = $1) AS servers,
              (SELECT count(*)::int FROM fleet_servers WHERE tenant_id = $1
                  AND (cardinality(credential_env_names) > 0 OR cardinality(credential_header_names) > 0))
                AS servers_with_credentials,
              (SELECT max(last_synced_at) FROM fleet_endpoints WHERE tenant_id = $1) AS last_synced_at`,
      [tenantId],
    )) as Array<{
      endpoints: number;
      agents: number;
      servers: number;
      servers_with_credentials: number;
      last_synced_at: Date | null;
    }>;
    const counts = async (table: string, column: string) => {
      const rows = (await this.dataSource.query(
        `SELECT ${column} AS k, count(*)::int AS n FROM ${table} WHERE tenant_id = $1 GROUP BY ${column}`,
        [tenantId],
      )) as { k: string | null; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.k ?? 'unset', r.n]));
    };
    return {
      totals,
      byClient: await counts('fleet_agents', 'client'),
      byTransport: await counts('fleet_servers', 'transport'),
      byAuthMode: await counts('fleet_servers', 'auth_mode'),
      byEnvironment: await counts('fleet_endpoints', 'environment'),
    };
  }

  /**
   * MCP servers across the fleet, one row per (name, transport, url or command), paginated first and then
   * detailed per row, so the cost is bounded by the page size and not by the fleet size.
   */
  serverGroups(tenantId: string, filter: ServerFilter): Promise<FleetServerGroup[]> {
    const where = ['s.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    if (filter.transport) {
      params.push(filter.transport);
      where.push(`s.transport = $${params.length}`);
    }
    if (filter.authMode) {
      params.push(filter.authMode);
      where.push(`s.auth_mode = $${params.length}`);
    }
    if (filter.search) {
      params.push(likePattern(filter.search));
      where.push(
        `(s.name ILIKE $${params.length} OR s.url ILIKE $${params.length} OR s.command ILIKE $${params.length})`,
      );
    }
    const having: string[] = [];
    if (filter.after) {
      params.push(filter.after.name, filter.after.key);
      having.push(`(g.name, g.group_key) > ($${params.length - 1}, $${params.length})`);
    }
    params.push(filter.limit);
    const same = `d.tenant_id = $1 AND d.name = g.name AND d.transport = g.transport
                  AND coalesce(d.url, d.command, '') = g.target`;
    return this.dataSource.query(
      `WITH g AS (
         SELECT s.name, s.transport, coalesce(s.url, s.command, '') AS target,
                md5(s.name || chr(31) || s.transport || chr(31) || coalesce(s.url, s.command, '')) AS group_key,
                min(s.command) AS command, min(s.url) AS url, count(*)::int AS agent_count,
                min(s.first_seen_at) AS first_seen_at, max(s.last_seen_at) AS last_seen_at
           FROM fleet_servers s WHERE ${where.join(' AND ')}
          GROUP BY s.name, s.transport, coalesce(s.url, s.command, '')
       ), page AS (
         SELECT * FROM g ${having.length ? `WHERE ${having.join(' AND ')}` : ''}
          ORDER BY g.name, g.group_key LIMIT $${params.length}
       )
       SELECT g.group_key, g.name, g.transport, g.command, g.url, g.agent_count, g.first_seen_at, g.last_seen_at,
         ARRAY(SELECT DISTINCT t FROM fleet_servers d, unnest(d.declared_tools) t WHERE ${same} ORDER BY t)
           AS declared_tools,
         ARRAY(SELECT DISTINCT t FROM fleet_servers d,
                 jsonb_array_elements_text(coalesce(d.introspection -> 'tools', '[]'::jsonb)) t
                WHERE ${same} AND d.introspection ->> 'status' = 'ok' ORDER BY t) AS tools,
         ARRAY(SELECT DISTINCT d.auth_mode FROM fleet_servers d WHERE ${same} ORDER BY 1) AS auth_modes,
         ARRAY(SELECT DISTINCT t FROM fleet_servers d, unnest(d.credential_env_names) t WHERE ${same} ORDER BY t)
           AS credential_env_names,
         ARRAY(SELECT DISTINCT t FROM fleet_servers d, unnest(d.credential_header_names) t WHERE ${same} ORDER BY t)
           AS credential_header_names,
         (SELECT count(DISTINCT a.endpoint_id)::int FROM fleet_servers d JOIN fleet_agents a ON a.id = d.agent_id
           WHERE ${same}) AS endpoint_count,
         (SELECT coalesce(jsonb_agg(x ORDER BY x.source_id, x.client, x.agent), '[]'::jsonb) FROM (
            SELECT e.source_id, e.hostname, a.client, a.name AS agent
              FROM fleet_servers d JOIN fleet_agents a ON a.id = d.agent_id JOIN fleet_endpoints e ON e.id = a.endpoint_id
             WHERE ${same} ORDER BY e.source_id, a.client, a.name LIMIT 50) x) AS source_agents
       FROM page g ORDER BY g.name, g.group_key`,
      params,
    );
  }
}
