/**
 * Proxy benchmark: `echo` calls to the real `@modelcontextprotocol/server-everything` over stdio, directly (the
 * floor), through a hand-written byte pass-through (the limit line, bench/proxy/passthrough.ts) and through the
 * built `agent-bom proxy` CLI with its full request and response path on: a 200-rule policy (the policy
 * benchmark's), argument detectors, credential detection with redaction, `--block-undeclared` and replay
 * detection. One call at a time gives per-call latency; N in flight gives throughput; all interleaved in rounds.
 * Cold start is spawn → the answer to an `initialize` written at once, for all three.
 *
 *   npm run bench -- proxy
 *
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile (`--cpu-prof`) of the proxy and of the pass-through into DIR.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';
import { buildPolicy } from '../policy/policy.bench.js';
import { interleave, round, type Candidate } from '../support/load.js';
import { percentile } from '../support/control-plane.js';
import { CLI, ROOT } from '../support/processes.js';
import { loadAverage } from '../support/proc.js';
import { added, ratio, type Measurement, type Role, type Scenario } from '../support/result.js';

const node = process.execPath;
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const PASSTHROUGH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'passthrough.js');
const PROFILE = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
  : [];

async function connect(command: string, args: string[]): Promise<{ client: Client; pid: number }> {
  const client = new Client({ name: 'proxy-bench', version: '1.0.0' });
  const transport = new StdioClientTransport({ command, args, stderr: 'ignore' });
  await client.connect(transport);
  return { client, pid: transport.pid! };
}

async function echo(client: Client, i: number): Promise<void> {
  const result = (await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } })) as {
    content: Array<{ text: string }>;
  };
  if (result.content[0].text !== `Echo: hello ${i}`)
    throw new Error(`unexpected echo: ${result.content[0].text}`);
}

/** Spawn → answer to an `initialize` written immediately. */
async function coldStart(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.write(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cold', version: '1' } },
    }) + '\n',
  );
  const elapsed = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/"id":1[,}]/.test(out)) resolve(performance.now() - started);
    });
    child.on('exit', () => reject(new Error(`exited before answering: ${out.slice(0, 200)}`)));
  });
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  return elapsed;
}

interface Options {
  seconds: number;
  rounds: number;
  concurrency: number;
  coldRuns: number;
}

export async function run(options: Options): Promise<Scenario[]> {
  const { concurrency, coldRuns } = options;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-proxy-bench-'));
  const policy = buildPolicy();
  const policyFile = path.join(dir, 'policy.json');
  await fs.writeFile(policyFile, JSON.stringify(policy));
  const server = [EVERYTHING, 'stdio'];
  const proxyArgs = [
    CLI,
    'proxy',
    ...['--policy', policyFile, '--detect-credentials', '--block-undeclared', '--log-level', 'error'],
    ...['--cache-dir', dir, '--', node, ...server],
  ];
  const passArgs = [PASSTHROUGH, node, ...server];
  const sides = [
    { name: 'direct', role: 'floor' as Role, args: server },
    { name: 'stdio pass-through', role: 'limit' as Role, args: passArgs },
    { name: 'agent-bom proxy', role: 'system' as Role, args: proxyArgs },
  ];
  // Profiled while measured, not during the cold starts.
  const connected = await Promise.all(
    sides.map((side) => connect(node, side.role === 'floor' ? side.args : [...PROFILE, ...side.args])),
  );
  try {
    for (const { client } of connected) await client.listTools();
    let n = 0;
    const candidates = (): Candidate[] =>
      sides.map((side, i) => ({
        name: side.name,
        role: side.role,
        // The intermediary's own process (the server is a child of it, not counted); none when direct.
        pids: side.role === 'floor' ? undefined : () => [connected[i].pid],
        task: () => echo(connected[i].client, n++),
      }));
    const sequential = await interleave(candidates(), {
      concurrency: 1,
      seconds: options.seconds,
      rounds: options.rounds,
    });
    const parallel = await interleave(candidates(), {
      concurrency,
      seconds: options.seconds,
      rounds: options.rounds,
    });
    for (const { client } of connected) await client.close();

    const cold: Measurement[] = [];
    const samples = sides.map(() => [] as number[]);
    for (let r = 0; r < coldRuns; r++) {
      for (let i = 0; i < sides.length; i++) samples[i].push(await coldStart(node, sides[i].args));
    }
    sides.forEach((side, i) => {
      const sorted = [...samples[i]].sort((a, b) => a - b);
      cold.push({
        name: side.name,
        role: side.role,
        count: sorted.length,
        seconds: sorted.reduce((a, b) => a + b, 0) / 1000,
        perSecond: NaN,
        p50Ms: round(percentile(sorted, 50), 2),
        p90Ms: round(percentile(sorted, 90), 2),
        p99Ms: round(percentile(sorted, 99), 2),
        errors: 0,
        loadAverage: loadAverage(),
      });
    });
    const about = `${policy.rules.length}-rule policy, detectors + redaction + block-undeclared + replay on; server-everything over stdio`;
    return [
      {
        benchmark: 'proxy',
        name: 'echo calls one at a time (per-call overhead)',
        unit: 'call',
        concurrency: 1,
        measurements: sequential,
        ratios: [
          added(
            sequential,
            'proxy.added_p50_ms',
            'proxy added p50 over the pass-through',
            'agent-bom proxy',
            'stdio pass-through',
            'p50Ms',
            0.05,
          ),
          added(
            sequential,
            'proxy.passthrough_added_p50_ms',
            'pass-through added p50 over direct',
            'stdio pass-through',
            'direct',
          ),
          ratio(
            sequential,
            'proxy.cpu_vs_passthrough',
            'proxy CPU per call / pass-through',
            'agent-bom proxy',
            'stdio pass-through',
            'cpuUsPerUnit',
            'lower',
          ),
        ],
        notes: [about],
      },
      {
        benchmark: 'proxy',
        name: `echo calls, ${concurrency} in flight (throughput)`,
        unit: 'call',
        concurrency,
        measurements: parallel,
        ratios: [
          ratio(
            parallel,
            'proxy.throughput_vs_passthrough',
            'proxy throughput / pass-through',
            'agent-bom proxy',
            'stdio pass-through',
            'perSecond',
            'higher',
            0.6,
          ),
          ratio(
            parallel,
            'proxy.cpu_vs_passthrough_parallel',
            'proxy CPU per call / pass-through',
            'agent-bom proxy',
            'stdio pass-through',
            'cpuUsPerUnit',
            'lower',
          ),
        ],
      },
      {
        benchmark: 'proxy',
        name: `cold start: spawn → answer to initialize (${coldRuns} runs each)`,
        unit: 'start',
        concurrency: 1,
        measurements: cold,
        ratios: [
          added(
            cold,
            'proxy.cold_start_added_ms',
            'proxy cold start added over the pass-through (p50)',
            'agent-bom proxy',
            'stdio pass-through',
          ),
        ],
      },
    ];
  } finally {
    for (const { client } of connected) await client.close().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
