/**
 * Bundle serving benchmark: `GET /v1/policy/bundle` as N proxies poll it — the 200 path (a full signed bundle,
 * from the signed-bundle cache; plain, and gzipped as pollers using fetch ask for it) and the 304 path (`If-None-Match` with the current ETag) — beside the limit line
 * `GET /healthz` on the same control plane, interleaved in rounds, same connection count. The control plane runs
 * in its own process, so /proc gives its CPU per request. The tenant's effective policy is the baseline pack
 * plus the 200-rule policy of the engine benchmark. Full mode also measures the 200 path with the cache off
 * (AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS=0, one signature per request) on a second control plane.
 *
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of each control plane into DIR (`--cpu-prof`).
 */
import { BASELINE_POLICY } from '../../libs/policy/src/index.js';
import { httpCandidate, interleave } from '../support/load.js';
import { Children, startControlPlaneProcess, type ControlPlaneProcess } from '../support/processes.js';
import { ratio, type Scenario } from '../support/result.js';
import { buildPolicy } from './policy.bench.js';

interface Options {
  seconds: number;
  rounds: number;
  connections?: number;
  /** Also measure the 200 path with the cache off (a second control plane). */
  uncached: boolean;
}

const profile = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
  : [];

export async function run(options: Options): Promise<Scenario[]> {
  const connections = options.connections ?? 50;
  const measure = { concurrency: connections, seconds: options.seconds, rounds: options.rounds };
  const scenarios: Scenario[] = [];
  const children = new Children();
  try {
    const cp = await startControlPlaneProcess(children, ['admin', 'proxy'], {}, profile);
    await setUp(cp);
    const pids = () => [cp.pid];
    const auth = { authorization: `Bearer ${cp.keys.proxy}` };
    const first = await fetch(`${cp.baseUrl}/v1/policy/bundle`, { headers: auth });
    const body = await first.text();
    const etag = first.headers.get('etag')!;
    const measurements = await interleave(
      [
        httpCandidate('GET /healthz', 'limit', { url: `${cp.baseUrl}/healthz` }, connections, pids),
        httpCandidate(
          'bundle 200 (cached)',
          'system',
          { url: `${cp.baseUrl}/v1/policy/bundle`, headers: auth },
          connections,
          pids,
        ),
        httpCandidate(
          'bundle 200 (cached, gzip)',
          'system',
          { url: `${cp.baseUrl}/v1/policy/bundle`, headers: { ...auth, 'accept-encoding': 'gzip, deflate' } },
          connections,
          pids,
        ),
        httpCandidate(
          'bundle 304 (If-None-Match)',
          'system',
          {
            url: `${cp.baseUrl}/v1/policy/bundle`,
            headers: { ...auth, 'if-none-match': etag },
            ok: (status) => status === 304,
          },
          connections,
          pids,
        ),
      ],
      measure,
    );
    const rules = (JSON.parse(body) as { payload: { policy: { rules: unknown[] } } }).payload.policy.rules
      .length;
    scenarios.push({
      benchmark: 'bundle',
      name: `GET /v1/policy/bundle, ${rules} rules, ${Buffer.byteLength(body)} bytes signed`,
      unit: 'request',
      concurrency: connections,
      measurements,
      ratios: [
        ratio(
          measurements,
          'bundle.cached_200_vs_healthz',
          'bundle 200 (cached) / GET /healthz',
          'bundle 200 (cached)',
          'GET /healthz',
          'perSecond',
          'higher',
          0.5,
        ),
        ratio(
          measurements,
          'bundle.cached_200_cpu_vs_healthz',
          'bundle 200 (cached) CPU per request / GET /healthz',
          'bundle 200 (cached)',
          'GET /healthz',
          'cpuUsPerUnit',
          'lower',
        ),
        ratio(
          measurements,
          'bundle.cached_200_gzip_vs_healthz',
          'bundle 200 (cached, gzip) / GET /healthz',
          'bundle 200 (cached, gzip)',
          'GET /healthz',
          'perSecond',
          'higher',
        ),
        ratio(
          measurements,
          'bundle.304_vs_healthz',
          'bundle 304 / GET /healthz',
          'bundle 304 (If-None-Match)',
          'GET /healthz',
          'perSecond',
          'higher',
        ),
      ],
    });
    if (!options.uncached) return scenarios;

    const uncached = await startControlPlaneProcess(children, ['admin', 'proxy'], {
      AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '0',
    });
    await setUp(uncached);
    const upids = () => [uncached.pid];
    const more = await interleave(
      [
        httpCandidate('GET /healthz', 'limit', { url: `${uncached.baseUrl}/healthz` }, connections, upids),
        httpCandidate(
          'bundle 200 (cache off)',
          'system',
          {
            url: `${uncached.baseUrl}/v1/policy/bundle`,
            headers: { authorization: `Bearer ${uncached.keys.proxy}` },
          },
          connections,
          upids,
        ),
      ],
      measure,
    );
    scenarios.push({
      benchmark: 'bundle',
      name: 'GET /v1/policy/bundle with AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS=0 (signs every 200)',
      unit: 'request',
      concurrency: connections,
      measurements: more,
      ratios: [
        ratio(
          more,
          'bundle.uncached_200_vs_healthz',
          'bundle 200 (cache off) / GET /healthz',
          'bundle 200 (cache off)',
          'GET /healthz',
          'perSecond',
          'higher',
        ),
      ],
    });
    return scenarios;
  } finally {
    await children.stopAll();
  }
}

/** The tenant's policies (baseline pack + 200 rules), written through the API. */
async function setUp(cp: ControlPlaneProcess): Promise<void> {
  for (const [name, document] of [
    ['baseline', BASELINE_POLICY],
    ['fleet-200', buildPolicy()],
  ] as const) {
    const res = await fetch(`${cp.baseUrl}/v1/gateway/policies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cp.keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, document }),
    });
    if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
  }
}
