import type { FleetAgent, FleetSyncPayload } from '../../libs/contracts/src/index.js';
import { percentile, runConcurrently, startBenchControlPlane } from '../support/control-plane.js';

function endpointPayload(i: number, agents: number, serversPerAgent: number): FleetSyncPayload {
  const list: FleetAgent[] = Array.from({ length: agents }, (_, a) => ({
    name: `agent-${a}`,
    client: 'claude-code',
    servers: Array.from({ length: serversPerAgent }, (_, s) =>
      s % 5 === 0
        ? {
            name: `remote-${s % 20}`,
            transport: 'https' as const,
            url: `https://mcp-${s % 20}.example.com/mcp`,
            auth_mode: 'headers' as const,
            credential_header_names: ['Authorization'],
            config_path: '/home/u/.claude.json',
          }
        : {
            name: `local-${s}`,
            transport: 'stdio' as const,
            command: 'npx',
            args: ['-y', `@example/server-${s}`],
            declared_tools: ['read', 'write', 'list'],
            auth_mode: 'env' as const,
            credential_env_names: ['API_TOKEN'],
            config_path: '/home/u/.claude.json',
          },
    ),
  }));
  return { source_id: `endpoint-${i}`, endpoint: { hostname: `host-${i}`, os: 'linux' }, agents: list };
}

export interface FleetFigures {
  http: { syncs: number; agentsPerSync: number; syncsPerSecond: number; p50Ms: number; p95Ms: number };
  httpBaseline: { syncsPerSecond: number; p50Ms: number; p95Ms: number };
  bulk: { endpoints: number; servers: number; seconds: number; serversPerSecond: number };
  bulkBaseline: { seconds: number; serversPerSecond: number };
  discovery: { upstreams: number; p50Ms: number; p95Ms: number };
  discoveryBaseline: { p50Ms: number; p95Ms: number };
}

/**
 * Fleet ingest and discovery, each beside a same-run baseline:
 * - HTTP: 50-agent syncs through `POST /v1/fleet/sync` (validation, auth, one transaction of batched upserts)
 *   vs plain INSERTs of the same rows into the same tables in one transaction each, no HTTP;
 * - bulk: 10,000 endpoints × 10 servers through the API vs the same plain INSERTs;
 * - discovery at that size vs a plain SELECT of the remote (name, url) rows it aggregates.
 */
export async function run(options: { endpoints?: number; httpSyncs?: number } = {}): Promise<FleetFigures> {
  const endpoints = options.endpoints ?? 10_000;
  const httpSyncs = options.httpSyncs ?? 200;
  const cp = await startBenchControlPlane();
  try {
    const key = await cp.key('fleet-push');
    const post = async (body: FleetSyncPayload) => {
      const res = await fetch(`${cp.baseUrl}/v1/fleet/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`sync failed: ${res.status} ${await res.text()}`);
    };
    const q = cp.db.dataSource;

    // Baseline: the same rows, plain INSERTs (no upsert, no validation, no HTTP), one transaction per sync.
    await q.query(`CREATE TEMP TABLE IF NOT EXISTS x (n int)`); // warm the pool
    const plainInsert = async (body: FleetSyncPayload, tenant: string) => {
      await q.transaction(async (m) => {
        const [{ id: endpointId }] = await m.query(
          `INSERT INTO fleet_endpoints (tenant_id, source_id, hostname, os, first_seen_at, last_synced_at)
           VALUES ($1, $2, $3, $4, now(), now()) RETURNING id`,
          [tenant, `plain-${body.source_id}`, body.endpoint?.hostname, body.endpoint?.os],
        );
        for (const agent of body.agents) {
          const [{ id: agentId }] = await m.query(
            `INSERT INTO fleet_agents (tenant_id, endpoint_id, source_id, client, name, first_seen_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING id`,
            [tenant, endpointId, `plain-${body.source_id}`, agent.client, agent.name],
          );
          const values: unknown[] = [];
          const rows = agent.servers.map((s, i) => {
            values.push(
              tenant,
              agentId,
              s.name,
              s.transport,
              s.command ?? null,
              s.url ?? null,
              s.auth_mode,
              s.config_path,
            );
            const b = i * 8;
            return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},now(),now())`;
          });
          if (rows.length) {
            await m.query(
              `INSERT INTO fleet_servers (tenant_id, agent_id, name, transport, command, url, auth_mode, config_path,
                 first_seen_at, last_seen_at) VALUES ${rows.join(',')}`,
              values,
            );
          }
        }
      });
    };
    await q.query(`INSERT INTO tenants (id, name) VALUES ('bench-plain', 'plain') ON CONFLICT DO NOTHING`);

    const http = await runConcurrently(httpSyncs, 8, (i) => post(endpointPayload(i, 50, 4)));
    const httpSeconds = http.reduce((a, b) => a + b, 0) / 8 / 1000;
    const base = await runConcurrently(httpSyncs, 8, (i) =>
      plainInsert(endpointPayload(i, 50, 4), 'bench-plain'),
    );
    const baseSeconds = base.reduce((a, b) => a + b, 0) / 8 / 1000;

    let start = performance.now();
    await runConcurrently(endpoints, 8, (i) => post(endpointPayload(100_000 + i, 1, 10)));
    const bulkSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    await runConcurrently(endpoints, 8, (i) =>
      plainInsert(endpointPayload(100_000 + i, 1, 10), 'bench-plain'),
    );
    const bulkBaseSeconds = (performance.now() - start) / 1000;

    const gateway = await cp.key('gateway');
    let upstreams = 0;
    const discovery = await runConcurrently(30, 1, async () => {
      const res = await fetch(`${cp.baseUrl}/v1/gateway/upstreams/discovered`, {
        headers: { authorization: `Bearer ${gateway}` },
      });
      upstreams = ((await res.json()) as { upstreams: unknown[] }).upstreams.length;
    });
    const discoveryBase = await runConcurrently(30, 1, async () => {
      await q.query(
        `SELECT name, url FROM fleet_servers WHERE tenant_id = $1 AND transport IN ('http','https','sse')`,
        [cp.tenant],
      );
    });

    const servers = endpoints * 10;
    return {
      http: {
        syncs: httpSyncs,
        agentsPerSync: 50,
        syncsPerSecond: httpSyncs / httpSeconds,
        p50Ms: percentile(http, 50),
        p95Ms: percentile(http, 95),
      },
      httpBaseline: {
        syncsPerSecond: httpSyncs / baseSeconds,
        p50Ms: percentile(base, 50),
        p95Ms: percentile(base, 95),
      },
      bulk: { endpoints, servers, seconds: bulkSeconds, serversPerSecond: servers / bulkSeconds },
      bulkBaseline: { seconds: bulkBaseSeconds, serversPerSecond: servers / bulkBaseSeconds },
      discovery: { upstreams, p50Ms: percentile(discovery, 50), p95Ms: percentile(discovery, 95) },
      discoveryBaseline: { p50Ms: percentile(discoveryBase, 50), p95Ms: percentile(discoveryBase, 95) },
    };
  } finally {
    await cp.close();
  }
}

export function report(f: FleetFigures): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  return [
    `fleet ingest: ${f.http.syncs} syncs of ${f.http.agentsPerSync} agents × 4 servers, 8 concurrent`,
    `  POST /v1/fleet/sync   ${f.http.syncsPerSecond.toFixed(0).padStart(6)} syncs/s   p50 ${ms(f.http.p50Ms)}   p95 ${ms(f.http.p95Ms)}`,
    `  baseline plain SQL    ${f.httpBaseline.syncsPerSecond.toFixed(0).padStart(6)} syncs/s   p50 ${ms(f.httpBaseline.p50Ms)}   p95 ${ms(f.httpBaseline.p95Ms)}`,
    `  ratio: ${(f.http.syncsPerSecond / f.httpBaseline.syncsPerSecond).toFixed(2)}x baseline throughput`,
    `fleet bulk: ${f.bulk.endpoints} endpoints × 10 servers (${f.bulk.servers} servers)`,
    `  through the API       ${f.bulk.seconds.toFixed(1)} s (${f.bulk.serversPerSecond.toFixed(0)} servers/s)`,
    `  baseline plain SQL    ${f.bulkBaseline.seconds.toFixed(1)} s (${f.bulkBaseline.serversPerSecond.toFixed(0)} servers/s)`,
    `  ratio: ${(f.bulk.seconds / f.bulkBaseline.seconds).toFixed(2)}x baseline time`,
    `discovery at that size (${f.discovery.upstreams} upstreams)`,
    `  GET discovered        p50 ${ms(f.discovery.p50Ms)}   p95 ${ms(f.discovery.p95Ms)}`,
    `  baseline SELECT rows  p50 ${ms(f.discoveryBaseline.p50Ms)}   p95 ${ms(f.discoveryBaseline.p95Ms)}`,
  ].join('\n');
}
