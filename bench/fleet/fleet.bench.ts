import type { FleetAgent, FleetSyncPayload } from '../../libs/contracts/src/index.js';
import { percentile, runConcurrently, startBenchControlPlane } from '../support/control-plane.js';
import { fromDurations } from '../support/durations.js';
import { GroupWatch, postgresPids } from '../support/proc.js';
import { ratio, type Scenario } from '../support/result.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

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

/**
 * Fleet ingest and discovery, each beside a same-run baseline:
 * - HTTP: 50-agent syncs through `POST /v1/fleet/sync` (validation, auth, one transaction of batched upserts)
 *   vs plain INSERTs of the same rows into the same tables in one transaction each, no HTTP;
 * - bulk: 10,000 endpoints × 10 servers through the API vs the same plain INSERTs;
 * - discovery at that size vs a plain SELECT of the remote (name, url) rows it aggregates: repeated GETs with
 *   syncs that change nothing remote between them (the answer remembered), and the first GET after a change.
 */
export async function run(options: {
  endpoints: number;
  httpSyncs: number;
  discoveryCalls: number;
}): Promise<Scenario[]> {
  const { endpoints, httpSyncs, discoveryCalls } = options;
  const cp = await startBenchControlPlane();
  try {
    const key = await cp.key('fleet-push');
    // An enrolled endpoint pushes again with the credential its first push returned, as `agent-bom agents` does.
    const credentials = new Map<string, string>();
    const post = async (body: FleetSyncPayload) => {
      const res = await fetch(`${cp.baseUrl}/v1/fleet/sync`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${credentials.get(body.source_id) ?? key}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`sync failed: ${res.status} ${await res.text()}`);
      const { endpoint_credential } = (await res.json()) as { endpoint_credential?: string };
      if (endpoint_credential) credentials.set(body.source_id, endpoint_credential);
    };
    const q = cp.db.dataSource;

    // Baseline: the same rows, plain INSERTs (no upsert, no validation, no HTTP), one transaction per sync.
    await q.query(`CREATE TEMP TABLE IF NOT EXISTS x (n int)`); // warm the pool
    // `serial`: the tenant's transactions one at a time (a transaction-scoped lock first, held to COMMIT), as a
    // chain head and an exact quota make them: what being serial alone costs plain SQL, nothing grouped.
    const plainInsert = async (body: FleetSyncPayload, tenant: string, serial = false) => {
      await q.transaction(async (m) => {
        if (serial) await m.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [tenant]);
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
    await q.query(
      `INSERT INTO tenants (id, name) VALUES ('bench-plain', 'plain'), ('bench-plain-serial', 'plain serial')
       ON CONFLICT DO NOTHING`,
    );

    // Each pair alternates in rounds, so both sides see the same background load.
    const rounds = 5;
    const http: number[] = [];
    const base: number[] = [];
    const elapsed = { http: 0, base: 0, bulk: 0, bulkBase: 0, bulkSerial: 0 };
    // CPU per side, µs: this process (the load generator and the control plane in it), and PostgreSQL's
    // processes for this database (its backends, and the server's WAL writer, checkpointer…).
    const cpu = { http: 0, base: 0, bulk: 0, bulkBase: 0, bulkSerial: 0 };
    const pgCpu = { ...cpu };
    const timed = async (side: keyof typeof elapsed, work: () => Promise<unknown>) => {
      const started = performance.now();
      const before = process.cpuUsage();
      const pg = new GroupWatch(() => postgresPids(cp.database));
      await work();
      const used = process.cpuUsage(before);
      cpu[side] += used.user + used.system;
      pgCpu[side] += pg.stop();
      elapsed[side] += (performance.now() - started) / 1000;
    };
    const costs = (side: keyof typeof cpu, units: number) => ({
      loaderCpuUsPerUnit: Math.round(cpu[side] / units),
      groupCpuUsPerUnit: { pg: Math.round(pgCpu[side] / units) },
    });
    const per = Math.ceil(httpSyncs / rounds);
    for (let r = 0; r < rounds; r++) {
      await timed('http', async () =>
        http.push(...(await runConcurrently(per, 8, (i) => post(endpointPayload(r * per + i, 50, 4))))),
      );
      await timed('base', async () =>
        base.push(
          ...(await runConcurrently(per, 8, (i) =>
            plainInsert(endpointPayload(r * per + i, 50, 4), 'bench-plain'),
          )),
        ),
      );
    }
    const chunk = Math.ceil(endpoints / rounds);
    for (let r = 0; r < rounds; r++) {
      const offset = 100_000 + r * chunk;
      await timed('bulk', () => runConcurrently(chunk, 8, (i) => post(endpointPayload(offset + i, 1, 10))));
      await timed('bulkBase', () =>
        runConcurrently(chunk, 8, (i) => plainInsert(endpointPayload(offset + i, 1, 10), 'bench-plain')),
      );
      await timed('bulkSerial', () =>
        runConcurrently(chunk, 8, (i) =>
          plainInsert(endpointPayload(offset + i, 1, 10), 'bench-plain-serial', true),
        ),
      );
    }

    // Discovery as gateways see it: (a) repeated GETs with a fleet sync between each two that changes nothing
    // remote (an endpoint of the bulk pushing its same inventory again: what a fleet does all day), the answer
    // remembered; (b) the first GET after a sync that changes what discovery aggregates (a new endpoint reporting
    // the remote servers: one more source), which reads the database (uncached). Only the GETs are timed.
    const gateway = await cp.key('gateway');
    let upstreams = 0;
    const discover = async () => {
      const res = await fetch(`${cp.baseUrl}/v1/gateway/upstreams/discovered`, {
        headers: { authorization: `Bearer ${gateway}` },
      });
      upstreams = ((await res.json()) as { upstreams: unknown[] }).upstreams.length;
    };
    const timedGet = async () => {
      const started = performance.now();
      await discover();
      return performance.now() - started;
    };
    const discovery: number[] = [];
    const uncached: number[] = [];
    const discoveryBase: number[] = [];
    const perRound = discoveryCalls / rounds;
    await discover();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        await post(endpointPayload(100_000 + r * perRound + i, 1, 10)); // the same inventory again
        discovery.push(await timedGet());
      }
      for (let i = 0; i < perRound; i++) {
        await post(endpointPayload(300_000 + r * perRound + i, 1, 10)); // a new source of the remote servers
        uncached.push(await timedGet());
      }
      discoveryBase.push(
        ...(await runConcurrently(perRound, 1, async () => {
          await q.query(
            `SELECT name, url FROM fleet_servers WHERE tenant_id = $1 AND transport IN ('http','https','sse')`,
            [cp.tenant],
          );
        })),
      );
    }

    const servers = chunk * rounds * 10;
    const syncs = per * rounds;
    const ingest = [
      {
        ...fromDurations('POST /v1/fleet/sync', 'system', http, elapsed.http),
        ...costs('http', syncs),
      },
      {
        ...fromDurations('plain SQL INSERTs', 'limit', base, elapsed.base),
        ...costs('base', syncs),
      },
    ];
    const bulk = [
      {
        ...fromDurations('through the API', 'system', [], elapsed.bulk),
        count: servers,
        perSecond: Math.round(servers / elapsed.bulk),
        ...costs('bulk', servers),
      },
      {
        ...fromDurations('plain SQL INSERTs', 'limit', [], elapsed.bulkBase),
        count: servers,
        perSecond: Math.round(servers / elapsed.bulkBase),
        ...costs('bulkBase', servers),
      },
      {
        ...fromDurations('plain SQL INSERTs, one sync at a time', 'reference', [], elapsed.bulkSerial),
        count: servers,
        perSecond: Math.round(servers / elapsed.bulkSerial),
        ...costs('bulkSerial', servers),
      },
    ];
    const disc = [
      fromDurations('GET /v1/gateway/upstreams/discovered', 'system', discovery, sum(discovery) / 1000),
      fromDurations('first GET after a change (uncached)', 'system', uncached, sum(uncached) / 1000),
      fromDurations('plain SELECT of the rows', 'limit', discoveryBase, sum(discoveryBase) / 1000),
    ];
    const p95 = (xs: number[]) => Math.round(percentile(xs, 95) * 1000) / 1000;
    return [
      {
        benchmark: 'fleet',
        name: `ingest: ${syncs} syncs of 50 agents × 4 servers`,
        unit: 'sync',
        concurrency: 8,
        measurements: ingest,
        ratios: [
          ratio(
            ingest,
            'fleet.ingest_vs_plain',
            'POST /v1/fleet/sync / plain SQL (syncs/s)',
            'POST /v1/fleet/sync',
            'plain SQL INSERTs',
            'perSecond',
            'higher',
            0.8,
          ),
        ],
      },
      {
        benchmark: 'fleet',
        name: `bulk: ${chunk * rounds} endpoints × 10 servers`,
        unit: 'server',
        concurrency: 8,
        measurements: bulk,
        ratios: [
          ratio(
            bulk,
            'fleet.bulk_time_vs_plain',
            'bulk time through the API / plain SQL',
            'through the API',
            'plain SQL INSERTs',
            'seconds',
            'lower',
            2,
          ),
          // What being serial alone costs plain SQL (one sync per transaction, one transaction of the tenant at a
          // time): the API's commits of a tenant are serial too, but group the syncs queued meanwhile.
          ratio(
            bulk,
            'fleet.bulk_serial_plain_vs_plain',
            'plain SQL one sync at a time / plain SQL (what being serial alone costs)',
            'plain SQL INSERTs, one sync at a time',
            'plain SQL INSERTs',
            'seconds',
            'lower',
          ),
          ratio(
            bulk,
            'fleet.bulk_time_vs_serial_plain',
            'bulk time through the API / plain SQL one sync at a time',
            'through the API',
            'plain SQL INSERTs, one sync at a time',
            'seconds',
            'lower',
          ),
        ],
      },
      {
        benchmark: 'fleet',
        name: `discovery at ${chunk * rounds} endpoints (${upstreams} upstreams)`,
        unit: 'request',
        concurrency: 1,
        measurements: disc,
        ratios: [
          {
            key: 'fleet.discovery_p95_ms',
            label: 'discovery p95',
            value: p95(discovery),
            better: 'lower',
            unit: 'ms',
            goal: 50,
          },
          {
            key: 'fleet.discovery_uncached_p95_ms',
            label: 'first GET after a change (uncached) p95',
            value: p95(uncached),
            better: 'lower',
            unit: 'ms',
          },
          {
            key: 'fleet.select_p95_ms',
            label: 'plain SELECT p95 (limit line)',
            value: p95(discoveryBase),
            better: 'lower',
            unit: 'ms',
          },
          ratio(
            disc,
            'fleet.discovery_p50_vs_select',
            'discovery p50 / plain SELECT p50',
            'GET /v1/gateway/upstreams/discovered',
            'plain SELECT of the rows',
            'p50Ms',
            'lower',
          ),
          ratio(
            disc,
            'fleet.discovery_uncached_p50_vs_select',
            'first GET after a change (uncached) p50 / plain SELECT p50',
            'first GET after a change (uncached)',
            'plain SELECT of the rows',
            'p50Ms',
            'lower',
          ),
        ],
      },
    ];
  } finally {
    await cp.close();
  }
}
