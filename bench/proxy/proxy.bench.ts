/**
 * Proxy benchmark: `echo` calls to the real `@modelcontextprotocol/server-everything` over stdio, through the built
 * `agent-bom proxy` and directly, in the same run, with the proxy's full request and response path on: a 200-rule
 * policy (the policy benchmark's), argument detectors, credential detection with redaction, `--block-undeclared`
 * and replay detection. Sequential calls give per-call latency (p50/p99); concurrent calls give throughput.
 * Direct and proxied rounds alternate so both see the same background load. Cold start is measured from spawn to
 * the answer of an `initialize` written at once (the first relayed response), for both.
 *
 *   npm run bench -- proxy          (BENCH_PROXY_CALLS, BENCH_PROXY_CONCURRENCY, BENCH_PROXY_COLD_RUNS)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { buildPolicy } from '../policy/policy.bench.js';

const node = process.execPath;
const CLI = path.resolve('bin/agent-bom.js');
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');

export interface SideFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  callsPerSecond: number;
  coldStartMs: number;
}

export interface ProxyBenchFigures {
  calls: number;
  concurrency: number;
  rules: number;
  direct: SideFigures;
  proxied: SideFigures;
  cpus: string;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function connect(command: string, args: string[]): Promise<Client> {
  const client = new Client({ name: 'proxy-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, stderr: 'ignore' }));
  return client;
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

export async function run(
  options: { calls?: number; concurrency?: number; coldRuns?: number } = {},
): Promise<ProxyBenchFigures> {
  const calls = options.calls ?? 2000;
  const concurrency = options.concurrency ?? 16;
  const coldRuns = options.coldRuns ?? 7;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-proxy-bench-'));
  const policy = buildPolicy();
  const policyFile = path.join(dir, 'policy.json');
  await fs.writeFile(policyFile, JSON.stringify(policy));
  const server = [EVERYTHING, 'stdio'];
  const proxyArgs = [
    CLI,
    'proxy',
    '--policy',
    policyFile,
    '--detect-credentials',
    '--block-undeclared',
    '--log-level',
    'error',
    '--cache-dir',
    dir,
    '--',
    node,
    ...server,
  ];
  try {
    const direct = await connect(node, server);
    const proxied = await connect(node, proxyArgs);
    await direct.listTools();
    await proxied.listTools();
    for (let i = 0; i < 200; i++) await Promise.all([echo(direct, i), echo(proxied, i)]); // warm-up (JIT)

    // Sequential latency, alternating slices of 100 calls.
    const latency = { direct: [] as number[], proxied: [] as number[] };
    for (let slice = 0; slice < calls / 100; slice++) {
      for (const [side, client] of [
        ['direct', direct],
        ['proxied', proxied],
      ] as const) {
        for (let i = 0; i < 100; i++) {
          const start = performance.now();
          await echo(client, i);
          latency[side].push(performance.now() - start);
        }
      }
    }

    // Throughput: `concurrency` calls in flight, alternating slices.
    const elapsed = { direct: 0, proxied: 0 };
    for (let slice = 0; slice < 4; slice++) {
      for (const [side, client] of [
        ['direct', direct],
        ['proxied', proxied],
      ] as const) {
        const per = calls / 4;
        let next = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < per) await echo(client, next++);
          }),
        );
        elapsed[side] += performance.now() - start;
      }
    }
    await direct.close();
    await proxied.close();

    const cold = { direct: [] as number[], proxied: [] as number[] };
    for (let i = 0; i < coldRuns; i++) {
      cold.direct.push(await coldStart(node, server));
      cold.proxied.push(await coldStart(node, proxyArgs));
    }
    const side = (name: 'direct' | 'proxied'): SideFigures => ({
      p50Ms: percentile(latency[name], 50),
      p99Ms: percentile(latency[name], 99),
      meanMs: latency[name].reduce((a, b) => a + b, 0) / latency[name].length,
      callsPerSecond: calls / (elapsed[name] / 1000),
      coldStartMs: percentile(cold[name], 50),
    });
    return {
      calls,
      concurrency,
      rules: policy.rules.length,
      direct: side('direct'),
      proxied: side('proxied'),
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function report(f: ProxyBenchFigures): string {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const rows = [
    ['', 'direct', 'through proxy', 'overhead'],
    ['p50 per call', ms(f.direct.p50Ms), ms(f.proxied.p50Ms), `+${ms(f.proxied.p50Ms - f.direct.p50Ms)}`],
    ['p99 per call', ms(f.direct.p99Ms), ms(f.proxied.p99Ms), `+${ms(f.proxied.p99Ms - f.direct.p99Ms)}`],
    [
      'mean per call',
      ms(f.direct.meanMs),
      ms(f.proxied.meanMs),
      `+${ms(f.proxied.meanMs - f.direct.meanMs)}`,
    ],
    [
      `throughput (${f.concurrency} in flight)`,
      `${Math.round(f.direct.callsPerSecond)} calls/s`,
      `${Math.round(f.proxied.callsPerSecond)} calls/s`,
      `${(f.proxied.callsPerSecond / f.direct.callsPerSecond).toFixed(2)}x`,
    ],
    [
      'cold start → first response (median)',
      ms(f.direct.coldStartMs),
      ms(f.proxied.coldStartMs),
      `+${ms(f.proxied.coldStartMs - f.direct.coldStartMs)}`,
    ],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  return [
    `proxy: ${f.calls} echo calls to server-everything per side, ${f.rules}-rule policy, detectors + redaction + block-undeclared + replay on (${f.cpus})`,
    ...lines,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(report(await run()) + '\n');
}
