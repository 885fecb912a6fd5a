/**
 * Bundle serving benchmark: `GET /v1/policy/bundle` as N proxies poll it — the 200 path (a full signed bundle)
 * and the 304 path (`If-None-Match` with the current ETag) — beside `GET /healthz` on the same listening
 * control plane, same run, same connection count. The tenant's effective policy is the baseline pack plus the
 * 200-rule policy of the engine benchmark.
 *
 * The 200 path is measured twice: with the signed-bundle cache (the default, AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS)
 * and, on a second control plane, with it off, so every 200 signs afresh; the signatures each run made are
 * counted. Uses DATABASE_URL when set, else throw-away embedded PostgreSQL.
 */
import { BASELINE_POLICY } from '../../libs/policy/src/index.js';
import { PolicyBundleService } from '../../src/modules/policy/policy-bundle.service.js';
import { startBenchControlPlane, type BenchControlPlane } from '../support/control-plane.js';
import { httpCandidate, interleave } from '../support/load.js';
import { ratio, type Measurement, type Scenario } from '../support/result.js';
import { buildPolicy } from './policy.bench.js';

interface Options {
  seconds: number;
  rounds: number;
  connections?: number;
  /** Also measure the 200 path with the cache off (a second control plane). */
  uncached: boolean;
}

export async function run(options: Options): Promise<Scenario[]> {
  const connections = options.connections ?? 50;
  const measure = { concurrency: connections, seconds: options.seconds, rounds: options.rounds };
  const scenarios: Scenario[] = [];
  const cached = await startBenchControlPlane();
  try {
    const proxy = await setUp(cached);
    const auth = { authorization: `Bearer ${proxy}` };
    const first = await fetch(`${cached.baseUrl}/v1/policy/bundle`, { headers: auth });
    const body = await first.text();
    const etag = first.headers.get('etag')!;
    const service = cached.app.get(PolicyBundleService);
    const before = service.signatures;
    const measurements = await interleave(
      [
        httpCandidate('GET /healthz', 'limit', { url: `${cached.baseUrl}/healthz` }, connections),
        httpCandidate(
          'bundle 200 (cached)',
          'system',
          { url: `${cached.baseUrl}/v1/policy/bundle`, headers: auth },
          connections,
        ),
        httpCandidate(
          'bundle 304 (If-None-Match)',
          'system',
          {
            url: `${cached.baseUrl}/v1/policy/bundle`,
            headers: { ...auth, 'if-none-match': etag },
            ok: (status) => status === 304,
          },
          connections,
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
          'bundle.304_vs_healthz',
          'bundle 304 / GET /healthz',
          'bundle 304 (If-None-Match)',
          'GET /healthz',
          'perSecond',
          'higher',
        ),
      ],
      notes: [
        `signatures made while measured: ${service.signatures - before}`,
        'the control plane runs in the benchmark process, so no per-request CPU figure',
      ],
    });
  } finally {
    await cached.close();
  }
  if (!options.uncached) return scenarios;

  const uncachedCp = await startBenchControlPlane({ AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '0' });
  try {
    const auth = { authorization: `Bearer ${await setUp(uncachedCp)}` };
    const measurements: Measurement[] = await interleave(
      [
        httpCandidate('GET /healthz', 'limit', { url: `${uncachedCp.baseUrl}/healthz` }, connections),
        httpCandidate(
          'bundle 200 (cache off)',
          'system',
          { url: `${uncachedCp.baseUrl}/v1/policy/bundle`, headers: auth },
          connections,
        ),
      ],
      measure,
    );
    scenarios.push({
      benchmark: 'bundle',
      name: 'GET /v1/policy/bundle with AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS=0 (signs every 200)',
      unit: 'request',
      concurrency: connections,
      measurements,
      ratios: [
        ratio(
          measurements,
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
    await uncachedCp.close();
  }
}

/** The tenant's policies (baseline pack + 200 rules), written through the API; returns a proxy key. */
async function setUp(cp: BenchControlPlane): Promise<string> {
  const admin = await cp.key('admin');
  for (const [name, document] of [
    ['baseline', BASELINE_POLICY],
    ['fleet-200', buildPolicy()],
  ] as const) {
    const res = await fetch(`${cp.baseUrl}/v1/gateway/policies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, document }),
    });
    if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
  }
  return cp.key('proxy');
}
