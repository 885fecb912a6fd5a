import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { upstreamName, type FleetSyncResult } from '../../../libs/contracts/src/index.js';
import type { Tx } from '../../core/database/transactions.js';

/** An agent row ready for the batch upsert. */
export interface AgentRow {
  client: string;
  name: string;
  config_paths: string[];
}

/** The columns of a stored MCP server that both the write and the read path know. */
export interface ServerColumns {
  name: string;
  transport: string;
  command: string | null;
  args: string[];
  url: string | null;
  declared_tools: string[];
  auth_mode: string;
  credential_env_names: string[];
  credential_header_names: string[];
  config_path: string;
  scope: string | null;
  project_path: string | null;
}

/** A server row ready for the batch upsert; `agent_key` identifies its agent (see {@link agentKey}). */
export interface ServerRow extends ServerColumns {
  agent_key: string;
  introspection: object | null;
}

export interface EndpointRow {
  source_id: string;
  hostname: string | null;
  os: string | null;
  os_release: string | null;
  agent_bom_version: string | null;
  owner: string | null;
  environment: string | null;
  tags: string[] | null;
  warnings: object[];
}

/** In-memory identity of an agent within one endpoint; never sent to SQL. */
export const agentKey = (client: string, name: string) => JSON.stringify([client, name]);

/**
 * The fleet write path, bound to one transaction. Every statement is scoped by the tenant given to
 * {@link FleetSyncRepository.transaction}.
 */
export class FleetSyncTransaction {
  constructor(
    private readonly manager: EntityManager,
    private readonly tenantId: string,
  ) {}

  /**
   * Serialises the tenant's upstream naming for the rest of the transaction. Taken only when a sync brings a
   * (name, url) pair never seen before, so steady-state syncs never wait on each other.
   */
  async lockUpstreamNaming(): Promise<void> {
    await this.manager.query(`SELECT pg_advisory_xact_lock(hashtext('upstream_names'), hashtext($1))`, [
      this.tenantId,
    ]);
  }

  /** Serialises requests that carry the same idempotency key (and only those) until this transaction ends. */
  async lockIdempotencyKey(scope: string, key: string): Promise<void> {
    await this.manager.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2 || chr(31) || $3))`, [
      this.tenantId,
      scope,
      key,
    ]);
  }

  /** The stored response of an earlier request with this key, if any. */
  async findIdempotent(
    scope: string,
    key: string,
  ): Promise<{ requestHash: string; response: FleetSyncResult } | null> {
    const rows = (await this.manager.query(
      `SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
      [this.tenantId, scope, key],
    )) as { request_hash: string; response: FleetSyncResult }[];
    return rows[0] ? { requestHash: rows[0].request_hash, response: rows[0].response } : null;
  }

  async saveIdempotent(
    scope: string,
    key: string,
    requestHash: string,
    response: FleetSyncResult,
  ): Promise<void> {
    await this.manager.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, response) VALUES ($1, $2, $3, $4, $5)`,
      [this.tenantId, scope, key, requestHash, JSON.stringify(response)],
    );
  }

  /**
   * Adds `delta` to the tenant's agent count and returns the new count. Called as the sync's last statement:
   * the usage row stays locked only until commit, and a sync that would pass the quota rolls back whole.
   */
  async addAgents(delta: number): Promise<number> {
    const rows = (await this.manager.query(
      `INSERT INTO fleet_usage (tenant_id, agents) VALUES ($1, greatest($2::int, 0))
       ON CONFLICT (tenant_id) DO UPDATE SET agents = fleet_usage.agents + $2::int
       RETURNING agents`,
      [this.tenantId, delta],
    )) as { agents: number }[];
    return rows[0].agents;
  }

  async upsertEndpoint(endpoint: EndpointRow, now: Date): Promise<string> {
    const rows = (await this.manager.query(
      `INSERT INTO fleet_endpoints
         (tenant_id, source_id, hostname, os, os_release, agent_bom_version, owner, environment, tags,
          inventory_warnings, first_seen_at, last_synced_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::text[], '{}'), $11::jsonb, $10, $10)
       ON CONFLICT (tenant_id, source_id) DO UPDATE SET
         hostname = coalesce(EXCLUDED.hostname, fleet_endpoints.hostname),
         os = coalesce(EXCLUDED.os, fleet_endpoints.os),
         os_release = coalesce(EXCLUDED.os_release, fleet_endpoints.os_release),
         agent_bom_version = coalesce(EXCLUDED.agent_bom_version, fleet_endpoints.agent_bom_version),
         owner = coalesce(EXCLUDED.owner, fleet_endpoints.owner),
         environment = coalesce(EXCLUDED.environment, fleet_endpoints.environment),
         tags = CASE WHEN $9::text[] IS NULL THEN fleet_endpoints.tags ELSE EXCLUDED.tags END,
         inventory_warnings = EXCLUDED.inventory_warnings,
         last_synced_at = EXCLUDED.last_synced_at
       RETURNING id`,
      [
        this.tenantId,
        endpoint.source_id,
        endpoint.hostname,
        endpoint.os,
        endpoint.os_release,
        endpoint.agent_bom_version,
        endpoint.owner,
        endpoint.environment,
        endpoint.tags,
        now,
        JSON.stringify(endpoint.warnings),
      ],
    )) as { id: string }[];
    return rows[0].id;
  }

  /** Upserts the endpoint's agents in one statement; returns their ids by identity and how many were new. */
  async upsertAgents(
    endpointId: string,
    sourceId: string,
    agents: AgentRow[],
    now: Date,
  ): Promise<{ ids: Map<string, string>; inserted: number }> {
    if (agents.length === 0) return { ids: new Map(), inserted: 0 };
    const rows = (await this.manager.query(
      `INSERT INTO fleet_agents (tenant_id, endpoint_id, source_id, client, name, config_paths, first_seen_at, last_seen_at)
       SELECT $1, $2, $3, a.client, a.name, coalesce(a.config_paths, '{}'), $4, $4
         FROM jsonb_to_recordset($5::jsonb) AS a(client text, name text, config_paths text[])
       ON CONFLICT (tenant_id, source_id, client, name) DO UPDATE SET
         endpoint_id = EXCLUDED.endpoint_id,
         config_paths = EXCLUDED.config_paths,
         last_seen_at = EXCLUDED.last_seen_at
       RETURNING id, client, name, (xmax = 0) AS inserted`,
      [this.tenantId, endpointId, sourceId, now, JSON.stringify(agents)],
    )) as { id: string; client: string; name: string; inserted: boolean }[];
    return {
      ids: new Map(rows.map((r) => [agentKey(r.client, r.name), r.id])),
      inserted: rows.filter((r) => r.inserted).length,
    };
  }

  /**
   * The endpoint's inventory is the payload: agents it no longer reports are removed (servers cascade).
   * Returns how many were removed.
   */
  async removeAgentsNotIn(sourceId: string, keepIds: string[]): Promise<number> {
    // A CTE, because the driver answers a bare DELETE … RETURNING with [rows, count] rather than rows.
    const [{ n }] = (await this.manager.query(
      `WITH removed AS (
         DELETE FROM fleet_agents WHERE tenant_id = $1 AND source_id = $2 AND NOT (id = ANY($3::uuid[])) RETURNING 1
       ) SELECT count(*)::int AS n FROM removed`,
      [this.tenantId, sourceId, keepIds],
    )) as { n: number }[];
    return n;
  }

  /** Upserts servers in one statement, then removes the agents' servers this sync did not report. */
  async replaceServers(
    agentIds: string[],
    servers: Array<Omit<ServerRow, 'agent_key'> & { agent_id: string }>,
    now: Date,
  ) {
    if (servers.length > 0) {
      await this.manager.query(
        `INSERT INTO fleet_servers
           (tenant_id, agent_id, name, transport, command, args, url, declared_tools, auth_mode,
            credential_env_names, credential_header_names, config_path, scope, project_path, introspection,
            first_seen_at, last_seen_at)
         SELECT $1, s.agent_id, s.name, s.transport, s.command, coalesce(s.args, '{}'), s.url,
                coalesce(s.declared_tools, '{}'), s.auth_mode, coalesce(s.credential_env_names, '{}'),
                coalesce(s.credential_header_names, '{}'), s.config_path, s.scope, s.project_path, s.introspection,
                $2, $2
           FROM jsonb_to_recordset($3::jsonb) AS s(
             agent_id uuid, name text, transport text, command text, args text[], url text, declared_tools text[],
             auth_mode text, credential_env_names text[], credential_header_names text[], config_path text,
             scope text, project_path text, introspection jsonb)
         ON CONFLICT (agent_id, name) DO UPDATE SET
           transport = EXCLUDED.transport, command = EXCLUDED.command, args = EXCLUDED.args, url = EXCLUDED.url,
           declared_tools = EXCLUDED.declared_tools, auth_mode = EXCLUDED.auth_mode,
           credential_env_names = EXCLUDED.credential_env_names,
           credential_header_names = EXCLUDED.credential_header_names,
           config_path = EXCLUDED.config_path, scope = EXCLUDED.scope, project_path = EXCLUDED.project_path,
           introspection = EXCLUDED.introspection, last_seen_at = EXCLUDED.last_seen_at`,
        [this.tenantId, now, JSON.stringify(servers)],
      );
    }
    await this.manager.query(
      `DELETE FROM fleet_servers WHERE tenant_id = $1 AND agent_id = ANY($2::uuid[]) AND last_seen_at <> $3`,
      [this.tenantId, agentIds, now],
    );
  }

  /**
   * Gives every (name, url) remote pair not seen before its stable upstream name, one a gateway can route
   * ({@link upstreamName}): the first URL seen under a name keeps the bare name forever; later ones get `-1`,
   * `-2`, … in the order they are first seen. A name that is already taken (by a server literally named
   * `jira-1`, or by `My Server` for `My-Server`) is skipped. The first report of a (name, url) also fixes its
   * transport: later reports, from any endpoint, can change neither (docs/fleet.md, "Discovery rule").
   */
  async registerUpstreams(
    pairs: Array<{ name: string; url: string; transport: string }>,
    now: Date,
  ): Promise<void> {
    let unseen = await this.unregistered(pairs);
    if (unseen.length === 0) return;
    await this.lockUpstreamNaming();
    unseen = await this.unregistered(unseen); // another sync may have named them while we waited
    for (const pair of unseen) {
      const [{ next }] = (await this.manager.query(
        `SELECT coalesce(max(ordinal) + 1, 0) AS next FROM upstream_names WHERE tenant_id = $1 AND base_name = $2`,
        [this.tenantId, pair.name],
      )) as { next: number }[];
      for (let ordinal = next; ; ordinal++) {
        const assigned = upstreamName(pair.name, ordinal);
        const inserted = (await this.manager.query(
          `INSERT INTO upstream_names
             (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
          [this.tenantId, pair.name, pair.url, assigned, ordinal, now, pair.transport],
        )) as unknown[];
        if (inserted.length === 1) break;
      }
    }
  }

  /** The pairs (deduplicated, in order) that have no registered name yet. */
  private async unregistered<T extends { name: string; url: string }>(pairs: T[]): Promise<T[]> {
    if (pairs.length === 0) return [];
    const known = (await this.manager.query(
      `SELECT base_name, url FROM upstream_names WHERE tenant_id = $1 AND base_name = ANY($2::text[])`,
      [this.tenantId, [...new Set(pairs.map((p) => p.name))]],
    )) as { base_name: string; url: string }[];
    const seen = new Set(known.map((k) => JSON.stringify([k.base_name, k.url])));
    return pairs.filter((p) => {
      const key = JSON.stringify([p.name, p.url]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}

@Injectable()
export class FleetSyncRepository {
  /** The write path of one tenant inside the caller's unit of work: a sync is written whole or not at all. */
  within(tx: Tx, tenantId: string): FleetSyncTransaction {
    return new FleetSyncTransaction(tx.manager, tenantId);
  }
}
