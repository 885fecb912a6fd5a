import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  UPSTREAM_NAME_MAX,
  upstreamBaseName,
  upstreamName,
  type FleetSyncResult,
} from '../../../libs/contracts/src/index.js';
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

/** A server row ready for the batch upsert, with its agent's identity within the endpoint. */
export interface ServerRow extends ServerColumns {
  agent_client: string;
  agent_name: string;
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
   * (name, url) pair never seen before, so steady-state syncs never wait on each other (and by a group commit
   * that falls back to counting its syncs one at a time, before the first count: the lock order).
   */
  async lockUpstreamNaming(): Promise<void> {
    await this.manager.query(`SELECT pg_advisory_xact_lock(hashtext('upstream_names'), hashtext($1))`, [
      this.tenantId,
    ]);
  }

  /**
   * A group commit's advisory locks, taken up front in one statement and one order: the idempotency keys of
   * {@link lockIdempotencyKey}, then the enrollments of {@link FleetEnrollmentRepository.lock} (the same lock
   * keys: keep them in step), each sorted. A sync alone takes at most one of each, in that order; a group takes
   * several, and two groups (on two replicas) taking them in arrival order could each hold one the other waits
   * for. The syncs' own lock calls then find them held by this transaction and go on.
   */
  async lockGroup(scope: string, idempotencyKeys: string[], sourceIds: string[]): Promise<void> {
    await this.manager.query(
      `SELECT count(pg_advisory_xact_lock(k.a, k.b)) FROM (
         SELECT a, b FROM (
           SELECT 0 AS kind, hashtext($1) AS a, hashtext($2 || chr(31) || key) AS b FROM unnest($3::text[]) AS key
           UNION ALL
           SELECT 1, hashtext('fleet_enroll'), hashtext($1 || chr(31) || source) FROM unnest($4::text[]) AS source
         ) l ORDER BY kind, a, b OFFSET 0
       ) k`,
      [this.tenantId, scope, idempotencyKeys, sourceIds],
    );
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

  /**
   * Writes the endpoint's whole inventory in one statement: the endpoint, its agents and their servers upserted
   * (one multi-row upsert per table), the agents and servers it no longer reports deleted (one statement each;
   * a removed agent's servers cascade). All sub-statements see one snapshot and touch disjoint rows: the deletes
   * keep what the payload names, the upserts write only that. Returns how many agents were new and removed, and
   * which of the remote `pairs` have no upstream name yet (deduplicated, in order; {@link nameUpstreams}).
   */
  async writeInventory(
    endpoint: EndpointRow,
    agents: AgentRow[],
    servers: ServerRow[],
    pairs: UpstreamPair[],
    now: Date,
  ): Promise<{ inserted: number; removed: number; unregistered: UpstreamPair[] }> {
    const [row] = (await this.manager.query(
      `WITH endpoint AS (
         INSERT INTO fleet_endpoints
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
         RETURNING id
       ),
       reported_agents AS (
         SELECT * FROM jsonb_to_recordset($12::jsonb) AS a(client text, name text, config_paths text[])
       ),
       agents AS (
         INSERT INTO fleet_agents
           (tenant_id, endpoint_id, source_id, client, name, config_paths, first_seen_at, last_seen_at)
         SELECT $1, endpoint.id, $2, a.client, a.name, coalesce(a.config_paths, '{}'), $10, $10
           FROM endpoint, reported_agents a
         ON CONFLICT (tenant_id, source_id, client, name) DO UPDATE SET
           endpoint_id = EXCLUDED.endpoint_id,
           config_paths = EXCLUDED.config_paths,
           last_seen_at = EXCLUDED.last_seen_at
         RETURNING id, client, name, (xmax = 0) AS inserted
       ),
       removed_agents AS (
         DELETE FROM fleet_agents f
          WHERE f.tenant_id = $1 AND f.source_id = $2
            AND NOT EXISTS (SELECT 1 FROM reported_agents a WHERE a.client = f.client AND a.name = f.name)
         RETURNING 1
       ),
       reported_servers AS (
         SELECT * FROM jsonb_to_recordset($13::jsonb) AS s(
           agent_client text, agent_name text, name text, transport text, command text, args text[], url text,
           declared_tools text[], auth_mode text, credential_env_names text[], credential_header_names text[],
           config_path text, scope text, project_path text, introspection jsonb)
       ),
       servers AS (
         INSERT INTO fleet_servers
           (tenant_id, agent_id, name, transport, command, args, url, declared_tools, auth_mode,
            credential_env_names, credential_header_names, config_path, scope, project_path, introspection,
            first_seen_at, last_seen_at)
         SELECT $1, agents.id, s.name, s.transport, s.command, coalesce(s.args, '{}'), s.url,
                coalesce(s.declared_tools, '{}'), s.auth_mode, coalesce(s.credential_env_names, '{}'),
                coalesce(s.credential_header_names, '{}'), s.config_path, s.scope, s.project_path, s.introspection,
                $10, $10
           FROM reported_servers s
           JOIN agents ON agents.client = s.agent_client AND agents.name = s.agent_name
         ON CONFLICT (agent_id, name) DO UPDATE SET
           transport = EXCLUDED.transport, command = EXCLUDED.command, args = EXCLUDED.args, url = EXCLUDED.url,
           declared_tools = EXCLUDED.declared_tools, auth_mode = EXCLUDED.auth_mode,
           credential_env_names = EXCLUDED.credential_env_names,
           credential_header_names = EXCLUDED.credential_header_names,
           config_path = EXCLUDED.config_path, scope = EXCLUDED.scope, project_path = EXCLUDED.project_path,
           introspection = EXCLUDED.introspection, last_seen_at = EXCLUDED.last_seen_at
       ),
       removed_servers AS (
         DELETE FROM fleet_servers f USING agents
          WHERE f.tenant_id = $1 AND f.agent_id = agents.id AND NOT agents.inserted
            AND NOT EXISTS (SELECT 1 FROM reported_servers s
                             WHERE s.agent_client = agents.client AND s.agent_name = agents.name AND s.name = f.name)
       )
       SELECT (SELECT count(*) FROM agents WHERE inserted)::int AS inserted,
              (SELECT count(*) FROM removed_agents)::int AS removed,
              (SELECT coalesce(jsonb_agg(jsonb_build_array(u.base_name, u.url)), '[]'::jsonb)
                 FROM jsonb_to_recordset($14::jsonb) AS p(name text, url text)
                 JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = p.name AND u.url = p.url) AS known`,
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
        JSON.stringify(agents),
        JSON.stringify(servers),
        JSON.stringify(pairs.map(({ name, url }) => ({ name, url }))),
      ],
    )) as { inserted: number; removed: number; known: Array<[string, string]> }[];
    return {
      inserted: row.inserted,
      removed: row.removed,
      unregistered: unseen(pairs, row.known),
    };
  }

  /**
   * Gives every (name, url) remote pair not seen before its stable upstream name, one a gateway can route
   * ({@link upstreamName}): the first URL seen under a name keeps the bare name forever; later ones get `-1`,
   * `-2`, … in the order they are first seen. A name that is already taken (by a server literally named
   * `jira-1`, or by `My Server` for `My-Server`) is skipped. The first report of a (name, url) also fixes its
   * transport: later reports, from any endpoint, can change neither (docs/fleet.md, "Discovery rule").
   */
  async registerUpstreams(pairs: UpstreamPair[], now: Date): Promise<void> {
    if (pairs.length === 0) return;
    const known = (await this.manager.query(
      `SELECT jsonb_build_array(u.base_name, u.url) AS pair
         FROM jsonb_to_recordset($2::jsonb) AS p(name text, url text)
         JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = p.name AND u.url = p.url`,
      [this.tenantId, JSON.stringify(pairs.map(({ name, url }) => ({ name, url })))],
    )) as { pair: [string, string] }[];
    await this.nameUpstreams(
      unseen(
        pairs,
        known.map((k) => k.pair),
      ),
      now,
    );
  }

  /**
   * Names `pairs` (none of them named when the caller looked) by the rule of {@link registerUpstreams}, set-based:
   * under the tenant's naming lock, one read of the registry rows the names could collide with (the pairs' base
   * names, and every assigned name that starts as a candidate would), the names chosen here in order, then one
   * multi-row insert. Nothing is taken without the lock, so the insert cannot conflict; if it ever did, the pairs
   * it left out are named one by one as before.
   */
  async nameUpstreams(pairs: UpstreamPair[], now: Date): Promise<void> {
    if (pairs.length === 0) return;
    await this.lockUpstreamNaming();
    const bases = [...new Set(pairs.map((p) => p.name))];
    // Every candidate `upstreamName(base, n)` is the routable base cut to fit its suffix (at most 11 characters
    // below 10^9), plus `-n` when n > 0: it starts with the base cut to UPSTREAM_NAME_MAX - 11.
    const routable = bases.map((b) => upstreamBaseName(b));
    const rows = (await this.manager.query(
      `SELECT base_name, url, ordinal, assigned_name FROM upstream_names u
        WHERE u.tenant_id = $1
          AND (u.base_name = ANY($2::text[])
               OR ((u.assigned_name = ANY($3::text[]) OR u.assigned_name ~ '-[0-9]+$')
                   AND EXISTS (SELECT 1 FROM unnest($4::text[]) AS c(prefix) WHERE starts_with(u.assigned_name, c.prefix))))`,
      [this.tenantId, bases, routable, routable.map((r) => r.slice(0, UPSTREAM_NAME_MAX - 11))],
    )) as { base_name: string; url: string; ordinal: number; assigned_name: string }[];
    const named = new Set<string>();
    const next = new Map<string, number>();
    const taken = new Set(rows.map((r) => r.assigned_name));
    for (const r of rows) {
      if (!bases.includes(r.base_name)) continue;
      named.add(pairKey(r.base_name, r.url));
      next.set(r.base_name, Math.max(next.get(r.base_name) ?? 0, r.ordinal + 1));
    }
    const chosen: Array<UpstreamPair & { assigned_name: string; ordinal: number }> = [];
    for (const pair of pairs) {
      if (named.has(pairKey(pair.name, pair.url))) continue; // another sync named it while we waited
      named.add(pairKey(pair.name, pair.url));
      let ordinal = next.get(pair.name) ?? 0;
      while (taken.has(upstreamName(pair.name, ordinal))) ordinal++;
      const assigned = upstreamName(pair.name, ordinal);
      taken.add(assigned);
      next.set(pair.name, ordinal + 1);
      chosen.push({ ...pair, assigned_name: assigned, ordinal });
    }
    if (chosen.length === 0) return;
    const inserted = (await this.manager.query(
      `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
       SELECT $1, c.name, c.url, c.assigned_name, c.ordinal, $2, c.transport
         FROM jsonb_to_recordset($3::jsonb) AS c(name text, url text, assigned_name text, ordinal int, transport text)
       ON CONFLICT DO NOTHING RETURNING base_name, url`,
      [this.tenantId, now, JSON.stringify(chosen)],
    )) as { base_name: string; url: string }[];
    if (inserted.length === chosen.length) return;
    const done = new Set(inserted.map((r) => pairKey(r.base_name, r.url)));
    for (const pair of chosen.filter((c) => !done.has(pairKey(c.name, c.url)))) await this.nameOne(pair, now);
  }

  /** The one-by-one fallback of {@link nameUpstreams}: the next free ordinal whose name is not taken. */
  private async nameOne(pair: UpstreamPair, now: Date): Promise<void> {
    const [{ next }] = (await this.manager.query(
      `SELECT coalesce(max(ordinal) + 1, 0) AS next FROM upstream_names WHERE tenant_id = $1 AND base_name = $2`,
      [this.tenantId, pair.name],
    )) as { next: number }[];
    for (let ordinal = next; ; ordinal++) {
      const inserted = (await this.manager.query(
        `INSERT INTO upstream_names
           (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
        [this.tenantId, pair.name, pair.url, upstreamName(pair.name, ordinal), ordinal, now, pair.transport],
      )) as unknown[];
      if (inserted.length === 1) return;
    }
  }
}

/** A remote server's (name, url) as discovery sees it, with the transport its first report fixes. */
export interface UpstreamPair {
  name: string;
  url: string;
  transport: string;
}

const pairKey = (name: string, url: string) => JSON.stringify([name, url]);

/** The pairs (deduplicated, in order) that are not among `known`. */
function unseen(pairs: UpstreamPair[], known: Array<[string, string]>): UpstreamPair[] {
  const seen = new Set(known.map(([name, url]) => pairKey(name, url)));
  return pairs.filter((p) => {
    const key = pairKey(p.name, p.url);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

@Injectable()
export class FleetSyncRepository {
  /** The write path of one tenant inside the caller's unit of work: a sync is written whole or not at all. */
  within(tx: Tx, tenantId: string): FleetSyncTransaction {
    return new FleetSyncTransaction(tx.manager, tenantId);
  }
}
