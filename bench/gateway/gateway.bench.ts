import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { BASELINE_POLICY } from '../../libs/policy/src/index.js';
import { startBenchControlPlane } from '../support/control-plane.js';

export interface PathFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface GatewayPoint {
  connections: number;
  direct: PathFigures;
  gateway: PathFigures;
}

export interface GatewayFigures {
  seconds: number;
  upstream: string;
  points: GatewayPoint[];
  audited: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../../../bin/agent-bom.js');
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: 'hello' } },
});

function spawnAndWait(
  args: string[],
  pattern: RegExp,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${args.join(' ')}\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

/**
 * `tools/call` through the gateway vs straight to the same upstream, same run, at 1, 50 and 500 concurrent
 * clients. Real processes: the upstream (SDK 1.x MCP server, stateless streamable HTTP) and `agent-bom gateway
 * serve` with the baseline policy pack plus a deny rule, audit to a real control plane (in this process), an
 * API key introspected (and cached) on every call.
 */
export async function run(
  options: { seconds?: number; levels?: number[]; upstream?: 'minimal' | 'sdk' } = {},
): Promise<GatewayFigures> {
  const seconds = options.seconds ?? 5;
  const levels = options.levels ?? [1, 50, 500];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-bench-'));
  const cp = await startBenchControlPlane();
  const children: ChildProcess[] = [];
  try {
    const upstream = await spawnAndWait(
      [path.join(here, 'upstream.js'), '0', options.upstream ?? 'minimal'],
      /listening (\d+)/,
      process.env,
    );
    children.push(upstream.child);
    const upstreamUrl = `http://127.0.0.1:${upstream.match[1]}/mcp`;
    const policy = structuredClone(BASELINE_POLICY) as unknown as { rules: object[] };
    policy.rules.push({ id: 'no-shell', effect: 'deny', tools: ['run_shell', 'shell_*'] });
    await fs.writeFile(path.join(dir, 'policy.json'), JSON.stringify(policy));
    await fs.writeFile(
      path.join(dir, 'upstreams.yaml'),
      `upstreams:\n  - name: bench\n    url: ${upstreamUrl}\n`,
    );
    const gatewayKey = await cp.key('gateway');
    const clientKey = await cp.key('viewer');
    const gateway = await spawnAndWait(
      [
        CLI,
        ...['gateway', 'serve', '--bind', '127.0.0.1:0', '--from-control-plane', cp.baseUrl],
        ...['--control-plane-token', gatewayKey, '--upstreams', path.join(dir, 'upstreams.yaml')],
        ...['--policy', path.join(dir, 'policy.json')],
        ...['--egress-allow', '127.0.0.1/32'], // the benchmark's upstream is on loopback
      ],
      /serving on (http:\/\/\S+)/,
      { ...process.env, LOG_LEVEL: 'warn' },
    );
    children.push(gateway.child);
    const gatewayUrl = `${gateway.match[1]}/mcp/bench`;

    const load = async (
      url: string,
      connections: number,
      headers: Record<string, string> = {},
    ): Promise<PathFigures> => {
      const result = await autocannon({
        url,
        connections,
        duration: seconds,
        method: 'POST',
        body: BODY,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      });
      return {
        requestsPerSecond: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.non2xx + result.errors + result.timeouts,
      };
    };
    const auth = { authorization: `Bearer ${clientKey}` };
    await load(upstreamUrl, 50); // warm-up: JIT, pools, key cache
    await load(gatewayUrl, 50, auth);
    const points: GatewayPoint[] = [];
    for (const connections of levels) {
      const direct = await load(upstreamUrl, connections);
      const through = await load(gatewayUrl, connections, auth);
      points.push({ connections, direct, gateway: through });
    }
    await new Promise((resolve) => setTimeout(resolve, 2000)); // let the last audit batch land
    const [{ count }] = (await cp.db.dataSource.query(
      `SELECT count(*)::int AS count FROM audit_entries WHERE tenant_id = $1 AND type = 'tool_call.allowed'`,
      [cp.tenant],
    )) as Array<{ count: number }>;
    return { seconds, upstream: options.upstream ?? 'minimal', points, audited: count };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await cp.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function report(figures: GatewayFigures): string {
  const lines = [
    `gateway: tools/call through agent-bom gateway (policy + audit + API-key auth) vs direct to the same upstream (${figures.upstream}), ${figures.seconds} s per point`,
    '  clients | direct req/s   p50   p99 | gateway req/s   p50   p99 | added p50  added p99 | errors',
  ];
  for (const { connections, direct, gateway } of figures.points) {
    lines.push(
      `  ${String(connections).padStart(7)} | ${direct.requestsPerSecond.toFixed(0).padStart(12)} ${String(direct.p50Ms).padStart(5)} ${String(direct.p99Ms).padStart(5)} | ` +
        `${gateway.requestsPerSecond.toFixed(0).padStart(13)} ${String(gateway.p50Ms).padStart(5)} ${String(gateway.p99Ms).padStart(5)} | ` +
        `${`${(gateway.p50Ms - direct.p50Ms).toFixed(1)} ms`.padStart(9)} ${`${(gateway.p99Ms - direct.p99Ms).toFixed(1)} ms`.padStart(10)} | ${direct.errors}/${gateway.errors}`,
    );
  }
  lines.push(`  allowed tool calls audited in the control plane: ${figures.audited}`);
  return lines.join('\n');
}
