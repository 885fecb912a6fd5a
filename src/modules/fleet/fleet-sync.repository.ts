import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  UPSTREAM_NAME_MAX,
  upstreamBaseName,
  upstreamName,
  type FleetSyncResult,
} from '../../../libs/contracts/src/index.js';
import type { Tx } from '../../core/database/transactions.js';
import type { Alongside } from '../audit/audit.service.js';
import type { Enrollment } from './fleet-enrollment.repository.js';

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

/**
 * One sync's rows for {@link FleetSyncTransaction.writeSyncs}: its inventory, when it was received, and, for a
 * first push, the endpoint credential to store with its enrollment (an `api_keys` row, snake_case columns).
 */
export interface SyncWrite {
  endpoint: EndpointRow;
  agents: AgentRow[];
  servers: ServerRow[];
  upstreams: UpstreamPair[];
  now: Date;
  credential?: {
    id: string;
    source_id: string;
    name: string;
    role: string;
    lookup_prefix: string;
    secret_hash: string;
    created_at: Date;
    created_by: string;
  };
}

/** The enrollment a push was admitted or refused on, as read (`state` and `key_id` null: none). */
export interface DecidedOn {
  source_id: string;
  state: string | null;
  key_id: string | null;
}

/** How many agents one sync added and removed. */
export interface AgentCounts {
  inserted: number;
  removed: number;
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
   * A sync's or a group commit's advisory locks, taken up front in one statement and one order: the idempotency
   * keys (requests that carry the same key, and only those, wait for each other until this transaction ends),
   * then the enrollments of {@link FleetEnrollmentRepository.lock} (the same lock keys: keep them in step), each
   * sorted. Two groups (on two replicas) taking them in arrival order could each hold one the other waits for.
   *
   * Returns the enrollments as this statement read them: from the snapshot taken when it started, before it
   * waited for any lock, so possibly older than a change committed by the holder of one of them. Decide on them
   * only if a later statement (whose snapshot is taken with the locks held) checks they are still so:
   * {@link writeSyncs} does.
   */
  async lockGroup(
    scope: string,
    idempotencyKeys: string[],
    sourceIds: string[],
  ): Promise<Map<string, Enrollment>> {
    const [row] = (await this.manager.query(
      `WITH locked AS MATERIALIZED (
         SELECT count(pg_advisory_xact_lock(k.a, k.b)) AS n FROM (
           SELECT a, b FROM (
             SELECT 0 AS kind, hashtext($1) AS a, hashtext($2 || chr(31) || key) AS b FROM unnest($3::text[]) AS key
             UNION ALL
             SELECT 1, hashtext('fleet_enroll'), hashtext($1 || chr(31) || source) FROM unnest($4::text[]) AS source
           ) l ORDER BY kind, a, b OFFSET 0
         ) k
       )
       SELECT (SELECT n FROM locked) AS locked,
              (SELECT coalesce(jsonb_agg(jsonb_build_object('source_id', source_id, 'key_id', key_id, 'state', state)),
                               '[]'::jsonb)
                 FROM fleet_enrollments WHERE tenant_id = $1 AND source_id = ANY($4::text[])) AS enrollments`,
      [this.tenantId, scope, idempotencyKeys, sourceIds],
    )) as { enrollments: Enrollment[] }[];
    return new Map(row.enrollments.map((e) => [e.source_id, e]));
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

  /** The stored responses of earlier requests with these keys, by key (a group commit's, under their locks). */
  async findIdempotentMany(
    scope: string,
    keys: string[],
  ): Promise<Map<string, { requestHash: string; response: FleetSyncResult }>> {
    const rows = (await this.manager.query(
      `SELECT key, request_hash, response FROM idempotency_keys
        WHERE tenant_id = $1 AND scope = $2 AND key = ANY($3::text[])`,
      [this.tenantId, scope, keys],
    )) as { key: string; request_hash: string; response: FleetSyncResult }[];
    return new Map(rows.map((r) => [r.key, { requestHash: r.request_hash, response: r.response }]));
  }

  /** Stores the answers of a group's keyed syncs, in one statement. */
  async saveIdempotentMany(
    scope: string,
    answers: { key: string; requestHash: string; response: FleetSyncResult }[],
  ): Promise<void> {
    if (answers.length === 0) return;
    await this.manager.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, response)
       SELECT $1, $2, a.key, a.request_hash, a.response
         FROM jsonb_to_recordset($3::jsonb) AS a(key text, request_hash text, response jsonb)`,
      [
        this.tenantId,
        scope,
        JSON.stringify(
          answers.map((a) => ({ key: a.key, request_hash: a.requestHash, response: a.response })),
        ),
      ],
    );
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
   * {@link addAgents} as a write to run in the statement of the group's audit append, before it locks the
   * chain head ({@link AuditService.recordEachAlongside}): the count row and the head, both held to commit, are
   * taken in one round trip, in the order every fleet transaction takes them (count, then head). Reads the new
   * count.
   */
  agentCountAlongside(delta: number): Alongside<number> {
    return {
      sql: (param) => {
        const tenant = param(this.tenantId);
        const added = param(delta);
        return `INSERT INTO fleet_usage (tenant_id, agents) VALUES (${tenant}, greatest(${added}::int, 0))
                ON CONFLICT (tenant_id) DO UPDATE SET agents = fleet_usage.agents + ${added}::int
                RETURNING agents`;
      },
      read: (row) => {
        if (!row) throw new Error('fleet: the agent count returned no row');
        return Number(row.agents);
      },
    };
  }

  /**
   * Writes the whole inventories of one or more syncs (distinct endpoints) in one statement: each endpoint, its
   * agents and their servers upserted (one multi-row upsert per table), the agents and servers an endpoint no
   * longer reports deleted (one statement each; a removed agent's servers cascade), and for a first push its
   * endpoint credential (`api_keys`, the columns of `ApiKeysRepository.insert`) and its enrollment (the row
   * `FleetEnrollmentRepository` reads; keep the two in step). All sub-statements see one snapshot and touch
   * disjoint rows: the deletes keep what the payloads name, the upserts write only that. The caller holds each
   * endpoint's enrollment lock and has decided on each push from its enrollment as it read it (`decided`: those
   * it admitted and those it refused): if one of them is not so any more (it was read by {@link lockGroup},
   * before the lock), nothing is written and `stale` is true. Returns, per sync in order, how many agents were
   * new and removed, and which of the syncs' remote pairs have no upstream name yet (deduplicated, in the syncs'
   * order; {@link nameUpstreams}).
   */
  async writeSyncs(
    syncs: SyncWrite[],
    decided: DecidedOn[],
  ): Promise<{ stale: boolean; counts: AgentCounts[]; unregistered: UpstreamPair[] }> {
    const sources = syncs.map((s) => s.endpoint.source_id);
    if (new Set(sources).size !== sources.length) throw new Error('writeSyncs: one sync per endpoint');
    const [row] = (await this.manager.query(
      `WITH decided AS (
         SELECT * FROM jsonb_to_recordset($8::jsonb) AS d(source_id text, state text, key_id uuid)
       ),
       stale AS MATERIALIZED (
         SELECT d.source_id FROM decided d
           LEFT JOIN fleet_enrollments n ON n.tenant_id = $1 AND n.source_id = d.source_id
          WHERE n.state IS DISTINCT FROM d.state OR n.key_id IS DISTINCT FROM d.key_id
       ),
       credentials AS (
         SELECT * FROM jsonb_to_recordset($7::jsonb) AS k(
           id uuid, source_id text, name text, role text, lookup_prefix text, secret_hash text,
           created_at timestamptz, created_by text)
         WHERE NOT EXISTS (SELECT 1 FROM stale)
       ),
       keys AS (
         INSERT INTO api_keys (id, tenant_id, name, role, lookup_prefix, secret_hash, created_at, created_by, source_id)
         SELECT k.id, $1, k.name, k.role, k.lookup_prefix, k.secret_hash, k.created_at, k.created_by, k.source_id
           FROM credentials k
       ),
       enrollments AS (
         INSERT INTO fleet_enrollments
           (tenant_id, source_id, key_id, state, enrolled_at, enrolled_by, changed_at, changed_by)
         SELECT $1, k.source_id, k.id, 'enrolled', k.created_at, k.created_by, k.created_at, k.created_by
           FROM credentials k
         ON CONFLICT (tenant_id, source_id) DO UPDATE
           SET key_id = EXCLUDED.key_id, state = 'enrolled', enrolled_at = EXCLUDED.enrolled_at,
               enrolled_by = EXCLUDED.enrolled_by, changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by
       ),
       reported_endpoints AS (
         SELECT * FROM jsonb_to_recordset($3::jsonb) AS e(
           source_id text, hostname text, os text, os_release text, agent_bom_version text, owner text,
           environment text, tags text[], warnings jsonb, now timestamptz)
         WHERE NOT EXISTS (SELECT 1 FROM stale)
       ),
       endpoints AS (
         INSERT INTO fleet_endpoints
           (tenant_id, source_id, hostname, os, os_release, agent_bom_version, owner, environment, tags,
            inventory_warnings, first_seen_at, last_synced_at)
         SELECT $1, e.source_id, e.hostname, e.os, e.os_release, e.agent_bom_version, e.owner, e.environment,
                coalesce(e.tags, '{}'), e.warnings, e.now, e.now
           FROM reported_endpoints e
         ON CONFLICT (tenant_id, source_id) DO UPDATE SET
           hostname = coalesce(EXCLUDED.hostname, fleet_endpoints.hostname),
           os = coalesce(EXCLUDED.os, fleet_endpoints.os),
           os_release = coalesce(EXCLUDED.os_release, fleet_endpoints.os_release),
           agent_bom_version = coalesce(EXCLUDED.agent_bom_version, fleet_endpoints.agent_bom_version),
           owner = coalesce(EXCLUDED.owner, fleet_endpoints.owner),
           environment = coalesce(EXCLUDED.environment, fleet_endpoints.environment),
           -- tags absent from the payload keep the stored ones (EXCLUDED.tags is '{}' then, not NULL)
           tags = CASE WHEN (SELECT e.tags IS NULL FROM reported_endpoints e WHERE e.source_id = EXCLUDED.source_id)
                       THEN fleet_endpoints.tags ELSE EXCLUDED.tags END,
           inventory_warnings = EXCLUDED.inventory_warnings,
           last_synced_at = EXCLUDED.last_synced_at
         RETURNING id, source_id
       ),
       reported_agents AS (
         SELECT * FROM jsonb_to_recordset($4::jsonb) AS a(
           source_id text, client text, name text, config_paths text[], now timestamptz)
       ),
       agents AS (
         INSERT INTO fleet_agents
           (tenant_id, endpoint_id, source_id, client, name, config_paths, first_seen_at, last_seen_at)
         SELECT $1, endpoints.id, a.source_id, a.client, a.name, coalesce(a.config_paths, '{}'), a.now, a.now
           FROM reported_agents a JOIN endpoints ON endpoints.source_id = a.source_id
         ON CONFLICT (tenant_id, source_id, client, name) DO UPDATE SET
           endpoint_id = EXCLUDED.endpoint_id,
           config_paths = EXCLUDED.config_paths,
           last_seen_at = EXCLUDED.last_seen_at
         RETURNING id, source_id, client, name, (xmax = 0) AS inserted
       ),
       removed_agents AS (
         DELETE FROM fleet_agents f
          WHERE f.tenant_id = $1 AND f.source_id = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM stale)
            AND NOT EXISTS (SELECT 1 FROM reported_agents a
                             WHERE a.source_id = f.source_id AND a.client = f.client AND a.name = f.name)
         RETURNING f.source_id
       ),
       reported_servers AS (
         SELECT * FROM jsonb_to_recordset($5::jsonb) AS s(
           source_id text, agent_client text, agent_name text, name text, transport text, command text,
           args text[], url text, declared_tools text[], auth_mode text, credential_env_names text[],
           credential_header_names text[], config_path text, scope text, project_path text, introspection jsonb,
           now timestamptz)
       ),
       servers AS (
         INSERT INTO fleet_servers
           (tenant_id, agent_id, name, transport, command, args, url, declared_tools, auth_mode,
            credential_env_names, credential_header_names, config_path, scope, project_path, introspection,
            first_seen_at, last_seen_at)
         SELECT $1, agents.id, s.name, s.transport, s.command, coalesce(s.args, '{}'), s.url,
                coalesce(s.declared_tools, '{}'), s.auth_mode, coalesce(s.credential_env_names, '{}'),
                coalesce(s.credential_header_names, '{}'), s.config_path, s.scope, s.project_path, s.introspection,
                s.now, s.now
           FROM reported_servers s
           JOIN agents ON agents.source_id = s.source_id AND agents.client = s.agent_client
                      AND agents.name = s.agent_name
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
                             WHERE s.source_id = agents.source_id AND s.agent_client = agents.client
                               AND s.agent_name = agents.name AND s.name = f.name)
       )
       SELECT EXISTS (SELECT 1 FROM stale) AS stale,
              (SELECT coalesce(jsonb_object_agg(source_id, n), '{}'::jsonb)
                 FROM (SELECT source_id, count(*)::int AS n FROM agents WHERE inserted GROUP BY source_id) i)
                AS inserted,
              (SELECT coalesce(jsonb_object_agg(source_id, n), '{}'::jsonb)
                 FROM (SELECT source_id, count(*)::int AS n FROM removed_agents GROUP BY source_id) r) AS removed,
              (SELECT coalesce(jsonb_agg(jsonb_build_array(u.base_name, u.url)), '[]'::jsonb)
                 FROM jsonb_to_recordset($6::jsonb) AS p(name text, url text)
                 JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = p.name AND u.url = p.url) AS known`,
      [
        this.tenantId,
        sources,
        JSON.stringify(
          syncs.map(({ endpoint, now }) => ({
            ...endpoint,
            warnings: endpoint.warnings,
            now: now.toISOString(),
          })),
        ),
        JSON.stringify(
          syncs.flatMap(({ endpoint, agents, now }) =>
            agents.map((a) => ({ ...a, source_id: endpoint.source_id, now: now.toISOString() })),
          ),
        ),
        JSON.stringify(
          syncs.flatMap(({ endpoint, servers, now }) =>
            servers.map((s) => ({ ...s, source_id: endpoint.source_id, now: now.toISOString() })),
          ),
        ),
        JSON.stringify(syncs.flatMap(({ upstreams }) => upstreams.map(({ name, url }) => ({ name, url })))),
        JSON.stringify(
          syncs.flatMap(({ credential }) =>
            credential ? [{ ...credential, created_at: credential.created_at.toISOString() }] : [],
          ),
        ),
        JSON.stringify(decided),
      ],
    )) as {
      stale: boolean;
      inserted: Record<string, number>;
      removed: Record<string, number>;
      known: Array<[string, string]>;
    }[];
    return {
      stale: row.stale,
      counts: sources.map((source) => ({
        inserted: row.inserted[source] ?? 0,
        removed: row.removed[source] ?? 0,
      })),
      unregistered: unseen(
        syncs.flatMap((s) => s.upstreams),
        row.known,
      ),
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
