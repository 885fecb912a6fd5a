/**
 * Gateway benchmarks: `tools/call` through `agent-bom gateway serve` (its CLI, its own process) beside the limit
 * lines (bench/gateway/relay.ts: Node http in, undici pool out, no checks; and `relay + checks`, the same relay
 * doing by hand the work `gateway on` must do, relay-checks.ts, on Node's `http` and on Fastify), the peer `@civic/passthrough-mcp-server` and the
 * upstream called directly, all on one zero-latency upstream process, interleaved in rounds. The control plane runs
 * in a process of its own: every candidate's table row also shows the CPU it cost the control plane (`cp`) and
 * PostgreSQL's processes for the control plane's database (`pg`) per request.
 *
 * - `gateway on`: API key introspected at a real control plane (cached), the 200-rule policy of the policy
 *   benchmark, detectors when the CLI has flags for them, audit shipped to the control plane.
 * - `gateway off`: a static bearer token, no policy, no control plane, so no audit.
 * - replicas: two gateways sharing the `postgres` rate limiter (a limit nobody reaches), beside two relays.
 *
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile (`--cpu-prof`) of each gateway and of the relays into DIR, with
 * `candidates.json` naming each process (`node dist/bench/profile.js DIR` prints where each one's CPU went);
 * BENCH_CPU_PROF_INTERVAL=µs sets its sampling interval. BENCH_HEAP_PROF=DIR samples what those processes allocate
 * (support/heap-sampling.ts); bench/profile.ts prints it as bytes per request.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPolicy } from '../policy/policy.bench.js';
import type { ProfiledCandidates } from '../profile.js';
import { httpCandidate, interleave, type Candidate, type SharedProcesses } from '../support/load.js';
import { postgresPids } from '../support/proc.js';
import {
  Children,
  CLI,
  cliFlags,
  freePort,
  startControlPlaneProcess,
  type ControlPlaneProcess,
} from '../support/processes.js';
import { added, ratio, type Scenario } from '../support/result.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.resolve(here, '../../../node_modules/@civic/passthrough-mcp-server/dist/cli.js');
const ACCEPT = 'application/json, text/event-stream';
const STATIC_TOKEN = 'bench-static-token-0123456789';
const FASTIFY_CHECKS = 'relay + checks, Fastify';
const PROFILE = [
  ...(process.env.BENCH_CPU_PROF
    ? [
        ...['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF],
        // A finer sampling interval than V8's 1 ms, e.g. 200 (µs), for a short run's per-function figures.
        ...(process.env.BENCH_CPU_PROF_INTERVAL
          ? ['--cpu-prof-interval', process.env.BENCH_CPU_PROF_INTERVAL]
          : []),
      ]
    : []),
  ...(process.env.BENCH_HEAP_PROF ? ['--import', path.join(here, '../support/heap-sampling.js')] : []),
];

let nextId = 1;
/** A `tools/call echo` with a fresh JSON-RPC id (a stateful peer session refuses a repeated in-flight id). */
const callBody = () =>
  `{"jsonrpc":"2.0","id":${nextId++},"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`;

export interface GatewayOptions {
  levels: number[];
  seconds: number;
  rounds: number;
  replicas: boolean;
  /**
   * How long the control plane and PostgreSQL are still watched after each slice (`settleSeconds` of interleave):
   * the gateway pushes what gathered in the last second on a 1 s timer, so without it up to a second of one
   * candidate's audit lands in the next one's `cp` and `pg` columns.
   */
  settleSeconds?: number;
}

interface Rig {
  children: Children;
  cp: ControlPlaneProcess;
  /** The control plane's process and PostgreSQL's for its database, measured beside every candidate. */
  shared: SharedProcesses;
  dir: string;
  upstreamUrl: string;
  upstreamPid: number;
  relay: { url: string; pid: number };
  relayChecks: { url: string; pid: number };
  fastifyChecks: { url: string; pid: number };
  peer: { url: string; pid: number };
  gatewayOn: { url: string; pid: number; key: string };
  gatewayOff: { url: string; pid: number };
  flags: Set<string>;
}

export async function run(options: GatewayOptions): Promise<Scenario[]> {
  const rig = await setUp();
  try {
    const scenarios: Scenario[] = [];
    for (const connections of options.levels) scenarios.push(await overhead(rig, connections, options));
    if (options.replicas) scenarios.push(await replicas(rig, options));
    for (const dir of new Set([process.env.BENCH_CPU_PROF, process.env.BENCH_HEAP_PROF]))
      if (dir) await nameProfiles(dir, rig, scenarios);
    return scenarios;
  } finally {
    await rig.children.stopAll();
    await fs.rm(rig.dir, { recursive: true, force: true });
  }
}

async function setUp(): Promise<Rig> {
  const children = new Children();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-bench-'));
  try {
    const cp = await startControlPlaneProcess(children, ['gateway', 'viewer']);
    const upstream = await children.start(
      [path.join(here, 'upstream.js'), '0', 'minimal'],
      /listening (\d+)/,
    );
    const upstreamOrigin = `http://127.0.0.1:${upstream.match[1]}`;
    const upstreamUrl = `${upstreamOrigin}/mcp`;
    const relay = await children.start(
      [...PROFILE, path.join(here, 'relay.js'), '0', upstreamUrl],
      /listening (\d+)/,
    );

    const peerPort = await freePort();
    const peer = await children.start([PEER], /running with httpStream transport/, {
      ...process.env,
      PORT: String(peerPort),
      TARGET_SERVER_URL: upstreamOrigin,
      TARGET_SERVER_MCP_PATH: '/mcp',
    });

    await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify(buildPolicy()));
    await fs.writeFile(
      path.join(dir, 'upstreams.yaml'),
      `upstreams:\n  - name: bench\n    url: ${upstreamUrl}\n`,
    );
    const flags = await cliFlags('gateway', 'serve');
    const gatewayKey = cp.keys.gateway;
    const clientKey = cp.keys.viewer;
    const checked = (mode: string) =>
      children.start(
        [
          ...PROFILE,
          path.join(here, 'relay.js'),
          ...['0', upstreamUrl, mode, cp.baseUrl, gatewayKey, path.join(dir, 'policy.json'), clientKey],
        ],
        /listening (\d+)/,
      );
    const relayChecks = await checked('checks');
    const fastifyChecks = await checked('checks-fastify');
    const on = await startGateway(children, flags, dir, [
      ...['--from-control-plane', cp.baseUrl, '--control-plane-token', gatewayKey],
      ...['--policy', path.join(dir, 'policy.json')],
      ...detectorFlags(flags),
    ]);
    const off = await startGateway(children, flags, dir, [
      ...['--bearer-token', STATIC_TOKEN],
      ...(flags.has('--no-policy-bundle') ? ['--no-policy-bundle'] : []),
    ]);
    return {
      children,
      cp,
      shared: { cp: () => [cp.pid], pg: () => postgresPids(cp.database) },
      dir,
      upstreamUrl,
      upstreamPid: upstream.child.pid!,
      relay: { url: `http://127.0.0.1:${relay.match[1]}/mcp/bench`, pid: relay.child.pid! },
      relayChecks: {
        url: `http://127.0.0.1:${relayChecks.match[1]}/mcp/bench`,
        pid: relayChecks.child.pid!,
      },
      fastifyChecks: {
        url: `http://127.0.0.1:${fastifyChecks.match[1]}/mcp/bench`,
        pid: fastifyChecks.child.pid!,
      },
      peer: { url: `http://127.0.0.1:${peerPort}/mcp`, pid: peer.child.pid! },
      gatewayOn: { url: `${on.url}/mcp/bench`, pid: on.pid, key: clientKey },
      gatewayOff: { url: `${off.url}/mcp/bench`, pid: off.pid },
      flags,
    };
  } catch (error) {
    await children.stopAll();
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Detector flags the gateway CLI accepts today (none on the gateway before the runtime rewrite). */
function detectorFlags(flags: Set<string>): string[] {
  const out: string[] = [];
  if (flags.has('--detect-credentials')) out.push('--detect-credentials');
  if (flags.has('--argument-detectors')) out.push('--argument-detectors', 'block');
  return out;
}

async function startGateway(
  children: Children,
  flags: Set<string>,
  dir: string,
  extra: string[],
): Promise<{ url: string; pid: number }> {
  const args = [
    ...PROFILE,
    CLI,
    ...['gateway', 'serve', '--bind', '127.0.0.1:0', '--upstreams', path.join(dir, 'upstreams.yaml')],
    // The runtime rewrite refuses private upstreams unless egress allows them.
    ...(flags.has('--egress-allow') ? ['--egress-allow', '127.0.0.1/32'] : []),
    ...extra,
  ];
  const { child, match } = await children.start(args, /serving on (http:\/\/\S+)/, {
    ...process.env,
    LOG_LEVEL: 'warn',
  });
  return { url: match[1], pid: child.pid! };
}

/** One stateful peer session per 10 clients (the peer is session-based; its sessions are not shared by clients). */
async function peerSessions(url: string, clients: number): Promise<string[]> {
  const sessions: string[] = [];
  for (let i = 0; i < Math.max(1, Math.ceil(clients / 10)); i++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    });
    await res.text();
    const session = res.headers.get('mcp-session-id');
    if (!session) throw new Error(`peer gave no session (${res.status})`);
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': session },
      body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    }).then((r) => r.text());
    sessions.push(session);
  }
  return sessions;
}

/** Beside the profiles: which process each candidate is, and its CPU per request (bench/profile.ts reads it). */
async function nameProfiles(dir: string, rig: Rig, scenarios: Scenario[]): Promise<void> {
  const named: ProfiledCandidates = {
    pids: {
      relay: rig.relay.pid,
      'relay + checks': rig.relayChecks.pid,
      [FASTIFY_CHECKS]: rig.fastifyChecks.pid,
      'gateway off': rig.gatewayOff.pid,
      'gateway on': rig.gatewayOn.pid,
    },
    cpuUsPerRequest: {},
  };
  for (const scenario of scenarios)
    if (scenario.name.startsWith('tools/call'))
      named.cpuUsPerRequest[scenario.concurrency] = Object.fromEntries(
        scenario.measurements.flatMap((m) =>
          m.cpuUsPerUnit === undefined ? [] : [[m.name, m.cpuUsPerUnit]],
        ),
      );
  await fs.writeFile(path.join(dir, 'candidates.json'), JSON.stringify(named, null, 2));
}

function mcpCandidate(
  name: string,
  role: Candidate['role'],
  url: string,
  connections: number,
  pid: number | undefined,
  headers: Record<string, string> = {},
): Candidate {
  return httpCandidate(
    name,
    role,
    {
      url,
      method: 'POST',
      body: callBody,
      headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
      expect: '"result"',
    },
    connections,
    pid === undefined ? undefined : () => [pid],
  );
}

async function overhead(rig: Rig, connections: number, options: GatewayOptions): Promise<Scenario> {
  const sessions = await peerSessions(rig.peer.url, connections);
  const perSession = Math.max(1, Math.ceil(connections / sessions.length));
  const peer = roundRobin(
    'civic passthrough',
    'peer',
    sessions.map((session) =>
      mcpCandidate('civic passthrough', 'peer', rig.peer.url, perSession, rig.peer.pid, {
        'mcp-session-id': session,
      }),
    ),
    [rig.peer.pid],
  );
  const candidates = [
    mcpCandidate('direct', 'floor', rig.upstreamUrl, connections, undefined),
    mcpCandidate('relay', 'limit', rig.relay.url, connections, rig.relay.pid),
    mcpCandidate('relay + checks', 'limit', rig.relayChecks.url, connections, rig.relayChecks.pid, {
      authorization: `Bearer ${rig.gatewayOn.key}`,
    }),
    mcpCandidate(FASTIFY_CHECKS, 'limit', rig.fastifyChecks.url, connections, rig.fastifyChecks.pid, {
      authorization: `Bearer ${rig.gatewayOn.key}`,
    }),
    mcpCandidate('gateway on', 'system', rig.gatewayOn.url, connections, rig.gatewayOn.pid, {
      authorization: `Bearer ${rig.gatewayOn.key}`,
    }),
    mcpCandidate('gateway off', 'system', rig.gatewayOff.url, connections, rig.gatewayOff.pid, {
      authorization: `Bearer ${STATIC_TOKEN}`,
    }),
    peer,
  ];
  try {
    const measurements = await interleave(candidates, {
      concurrency: connections,
      seconds: options.seconds,
      rounds: options.rounds,
      shared: rig.shared,
      settleSeconds: options.settleSeconds,
    });
    const key = `gateway.c${connections}`;
    const ratios = [
      ratio(
        measurements,
        `${key}.throughput_vs_relay`,
        'gateway on throughput / relay',
        'gateway on',
        'relay',
        'perSecond',
        'higher',
        connections === 50 ? 0.8 : undefined,
      ),
      ratio(
        measurements,
        `${key}.off_throughput_vs_relay`,
        'gateway off throughput / relay',
        'gateway off',
        'relay',
        'perSecond',
        'higher',
      ),
      ratio(
        measurements,
        `${key}.cpu_vs_relay`,
        'gateway on CPU per request / relay',
        'gateway on',
        'relay',
        'cpuUsPerUnit',
        'lower',
        1.25,
      ),
      // The second limit line: what the goal's checks cost done by hand (relay + checks over the relay), and the
      // gateway's own cost over that. Not in the quick baseline (a ratio missing there is printed, not gated).
      ratio(
        measurements,
        `${key}.cpu_vs_relay_checks`,
        'gateway on CPU per request / relay + checks',
        'gateway on',
        'relay + checks',
        'cpuUsPerUnit',
        'lower',
      ),
      ratio(
        measurements,
        `${key}.throughput_vs_relay_checks`,
        'gateway on throughput / relay + checks',
        'gateway on',
        'relay + checks',
        'perSecond',
        'higher',
      ),
      ratio(
        measurements,
        `${key}.relay_checks_cpu_vs_relay`,
        'relay + checks CPU per request / relay',
        'relay + checks',
        'relay',
        'cpuUsPerUnit',
        'lower',
      ),
      ratio(
        measurements,
        `${key}.relay_checks_throughput_vs_relay`,
        'relay + checks throughput / relay',
        'relay + checks',
        'relay',
        'perSecond',
        'higher',
      ),
      // The third: the same checks behind the simplest Fastify app, the gateway's HTTP library. Between it and
      // relay + checks is what Fastify costs a request; between `on` and it, the gateway's own code.
      ratio(
        measurements,
        `${key}.cpu_vs_fastify_checks`,
        `gateway on CPU per request / ${FASTIFY_CHECKS}`,
        'gateway on',
        FASTIFY_CHECKS,
        'cpuUsPerUnit',
        'lower',
      ),
      ratio(
        measurements,
        `${key}.fastify_checks_cpu_vs_relay_checks`,
        `${FASTIFY_CHECKS} CPU per request / relay + checks`,
        FASTIFY_CHECKS,
        'relay + checks',
        'cpuUsPerUnit',
        'lower',
      ),
      ratio(
        measurements,
        `${key}.fastify_checks_cpu_vs_relay`,
        `${FASTIFY_CHECKS} CPU per request / relay`,
        FASTIFY_CHECKS,
        'relay',
        'cpuUsPerUnit',
        'lower',
      ),
      ratio(
        measurements,
        `${key}.throughput_vs_direct`,
        'gateway on throughput / direct',
        'gateway on',
        'direct',
        'perSecond',
        'higher',
      ),
      ratio(
        measurements,
        `${key}.throughput_vs_peer`,
        'gateway on throughput / civic passthrough',
        'gateway on',
        'civic passthrough',
        'perSecond',
        'higher',
        5,
      ),
      // The ceiling of the peer goal in this run: what the limit line (no checks) and no intermediary at all reach
      // against the peer. A gateway cannot beat the relay's ratio by relaying, only by costing less than it.
      ratio(
        measurements,
        `${key}.relay_vs_peer`,
        'relay throughput / civic passthrough (ceiling)',
        'relay',
        'civic passthrough',
        'perSecond',
        'higher',
      ),
      ratio(
        measurements,
        `${key}.direct_vs_peer`,
        'direct throughput / civic passthrough (no intermediary)',
        'direct',
        'civic passthrough',
        'perSecond',
        'higher',
      ),
    ];
    if (connections === 1) {
      ratios.push(
        added(
          measurements,
          `${key}.added_p50_ms`,
          'gateway on added p50 over direct',
          'gateway on',
          'direct',
          'p50Ms',
          0.12,
        ),
        added(measurements, `${key}.relay_added_p50_ms`, 'relay added p50 over direct', 'relay', 'direct'),
        added(
          measurements,
          `${key}.added_p50_over_relay_ms`,
          'gateway on added p50 over the relay',
          'gateway on',
          'relay',
        ),
      );
    }
    const notes = [
      `gateway on: 200-rule policy, API key introspection (cached), audit to the control plane${detectorFlags(rig.flags).length ? ', detectors' : ' (this gateway has no detector flags)'}`,
      `peer: ${sessions.length} MCP session(s) shared round-robin; it answers as SSE`,
      'relay + checks: the key digest, the body parse, a precomputed policy decision, the argument and answer detectors and one audit event per call pushed in batches, by hand (bench/gateway/relay-checks.ts)',
      `${FASTIFY_CHECKS}: the same checks, the same code, behind the simplest Fastify app (bench/gateway/relay-checks-fastify.ts)`,
      "cp, pg: CPU per request of the control plane process and of PostgreSQL (its database's backends, the server's background processes)",
    ];
    return {
      benchmark: 'gateway',
      name: `tools/call, ${connections} clients`,
      unit: 'request',
      concurrency: connections,
      measurements,
      ratios,
      notes,
    };
  } finally {
    for (const c of candidates) await c.close?.();
  }
}

/** Two gateways sharing the postgres limiter beside two relays, the load split evenly between the pair. */
async function replicas(rig: Rig, options: GatewayOptions): Promise<Scenario> {
  const connections = 50;
  const limiter = [
    '--rate-limit-backend',
    'postgres',
    '--rate-limit-database-url',
    rig.cp.databaseUrl,
    '--rate-limit-per-tenant',
    '1000000/min',
  ];
  const gatewayKey = rig.cp.keys.gateway;
  const pair = [];
  for (let i = 0; i < 2; i++) {
    pair.push(
      await startGateway(rig.children, rig.flags, rig.dir, [
        ...['--from-control-plane', rig.cp.baseUrl, '--control-plane-token', gatewayKey],
        ...['--policy', path.join(rig.dir, 'policy.json')],
        ...detectorFlags(rig.flags),
        ...limiter,
      ]),
    );
  }
  const relay2 = await rig.children.start(
    [path.join(here, 'relay.js'), '0', rig.upstreamUrl],
    /listening (\d+)/,
  );
  const relays = [
    { url: rig.relay.url, pid: rig.relay.pid },
    { url: `http://127.0.0.1:${relay2.match[1]}/mcp/bench`, pid: relay2.child.pid! },
  ];
  const auth = { authorization: `Bearer ${rig.gatewayOn.key}` };
  const both = (
    name: string,
    role: Candidate['role'],
    targets: Array<{ url: string; pid: number }>,
    headers = {},
  ) =>
    roundRobin(
      name,
      role,
      targets.map((t) => mcpCandidate(name, role, t.url, connections / 2, t.pid, headers)),
      targets.map((t) => t.pid),
    );
  const candidates = [
    both('2 relays', 'limit', relays),
    both(
      '2 gateways, postgres limiter',
      'system',
      pair.map((g) => ({ url: `${g.url}/mcp/bench`, pid: g.pid })),
      auth,
    ),
    mcpCandidate('1 gateway, no limiter', 'system', rig.gatewayOn.url, connections, rig.gatewayOn.pid, auth),
  ];
  try {
    const measurements = await interleave(candidates, {
      concurrency: connections,
      seconds: options.seconds,
      rounds: options.rounds,
      shared: rig.shared,
      settleSeconds: options.settleSeconds,
    });
    return {
      benchmark: 'gateway',
      name: 'two replicas, postgres limiter, 50 clients',
      unit: 'request',
      concurrency: connections,
      measurements,
      ratios: [
        ratio(
          measurements,
          'gateway.replicas.throughput_vs_relays',
          '2 gateways (postgres limiter) / 2 relays',
          '2 gateways, postgres limiter',
          '2 relays',
          'perSecond',
          'higher',
        ),
        ratio(
          measurements,
          'gateway.replicas.cpu_vs_relays',
          '2 gateways CPU per request / 2 relays',
          '2 gateways, postgres limiter',
          '2 relays',
          'cpuUsPerUnit',
          'lower',
        ),
        ratio(
          measurements,
          'gateway.replicas.vs_one',
          '2 gateways (postgres limiter) / 1 gateway (no limiter)',
          '2 gateways, postgres limiter',
          '1 gateway, no limiter',
          'perSecond',
          'higher',
        ),
      ],
      notes: [
        '2 cores: two replicas share them, so the pair is not expected to double; the limiter adds a PostgreSQL round trip per request',
      ],
    };
  } finally {
    for (const c of candidates) await c.close?.();
  }
}

/** One candidate whose units go to `parts` in turn (two replicas, several peer sessions). */
function roundRobin(name: string, role: Candidate['role'], parts: Candidate[], pids: number[]): Candidate {
  let turn = 0;
  return {
    name,
    role,
    pids: () => pids,
    task: () => parts[turn++ % parts.length].task(),
    close: async () => {
      await Promise.all(parts.map((p) => p.close?.()));
    },
  };
}
