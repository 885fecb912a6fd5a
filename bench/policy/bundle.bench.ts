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
import {
  loadUrl,
  startBenchControlPlane,
  type BenchControlPlane,
  type LoadFigures,
} from '../support/control-plane.js';
import { buildPolicy } from './policy.bench.js';

export interface BundleFigures {
  rules: number;
  bundleBytes: number;
  healthz: LoadFigures;
  ok: LoadFigures & { signatures: number };
  notModified: LoadFigures & { signatures: number };
  uncached: LoadFigures & { signatures: number };
}

interface Options {
  seconds?: number;
  connections?: number;
}

export async function run(options: Options = {}): Promise<BundleFigures> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 50;
  const load = async (cp: BenchControlPlane, url: string, headers: Record<string, string> = {}) => {
    const service = cp.app.get(PolicyBundleService);
    const before = service.signatures;
    const figures = await loadUrl(cp.baseUrl, url, { connections, seconds, headers });
    return { ...figures, signatures: service.signatures - before };
  };

  const cached = await startBenchControlPlane();
  let figures: Omit<BundleFigures, 'uncached'>;
  try {
    const proxy = await setUp(cached);
    const auth = { authorization: `Bearer ${proxy}` };
    const first = await fetch(`${cached.baseUrl}/v1/policy/bundle`, { headers: auth });
    const body = await first.text();
    const etag = first.headers.get('etag')!;
    await load(cached, '/healthz'); // warm-up: JIT, pool, key cache
    const healthz = await load(cached, '/healthz');
    const ok = await load(cached, '/v1/policy/bundle', auth);
    const notModified = await load(cached, '/v1/policy/bundle', { ...auth, 'if-none-match': etag });
    figures = {
      rules: (JSON.parse(body) as { payload: { policy: { rules: unknown[] } } }).payload.policy.rules.length,
      bundleBytes: Buffer.byteLength(body),
      healthz,
      ok,
      notModified,
    };
  } finally {
    await cached.close();
  }

  const uncachedCp = await startBenchControlPlane({ AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '0' });
  try {
    const auth = { authorization: `Bearer ${await setUp(uncachedCp)}` };
    await load(uncachedCp, '/v1/policy/bundle', auth); // warm-up
    return { ...figures, uncached: await load(uncachedCp, '/v1/policy/bundle', auth) };
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

export function report(f: BundleFigures): string {
  const row = (label: string, x: LoadFigures & { signatures?: number }) =>
    `  ${label.padEnd(28)} ${x.requestsPerSecond.toFixed(0).padStart(8)} req/s   p50 ${String(x.p50Ms).padStart(4)} ms   ` +
    `p99 ${String(x.p99Ms).padStart(4)} ms   non-2xx ${x.non2xx}` +
    (x.signatures === undefined ? '' : `   signatures ${x.signatures}`);
  return [
    `bundle: GET /v1/policy/bundle (${f.rules} rules, ${f.bundleBytes} bytes signed) beside GET /healthz, same run`,
    row('GET /healthz', f.healthz),
    row('bundle 200 (cached)', f.ok),
    row('bundle 304 (If-None-Match)', f.notModified),
    row('bundle 200 (cache off)', f.uncached),
    `  ratio to /healthz: 200 ${(f.ok.requestsPerSecond / f.healthz.requestsPerSecond).toFixed(2)}x, ` +
      `304 ${(f.notModified.requestsPerSecond / f.healthz.requestsPerSecond).toFixed(2)}x; ` +
      `cache speed-up on the 200 path ${(f.ok.requestsPerSecond / f.uncached.requestsPerSecond).toFixed(1)}x`,
  ].join('\n');
}
