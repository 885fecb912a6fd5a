import { loadUrl, startBenchControlPlane, type LoadFigures } from '../support/control-plane.js';

export interface AuthMeFigures {
  baseline: LoadFigures;
  authenticated: LoadFigures;
  /** authenticated throughput / baseline throughput */
  throughputRatio: number;
  /** authenticated p99 / baseline p99 */
  p99Ratio: number;
}

/**
 * Authenticated `GET /v1/auth/me` (guard, key cache, permission check, handler) against the unauthenticated
 * `GET /healthz` baseline, on one real listening control plane, same run, same connection count.
 * Uses DATABASE_URL when set, else a throw-away embedded PostgreSQL.
 */
export async function run(options: { seconds?: number; connections?: number } = {}): Promise<AuthMeFigures> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 50;
  const cp = await startBenchControlPlane();
  try {
    const raw_key = await cp.key('viewer');
    const base = cp.baseUrl;

    const load = (url: string, headers: Record<string, string> = {}): Promise<LoadFigures> =>
      loadUrl(base, url, { connections, seconds, headers });
    await load('/healthz'); // warm-up: JIT, pool, key cache
    const baseline = await load('/healthz');
    const authenticated = await load('/v1/auth/me', { authorization: `Bearer ${raw_key}` });
    return {
      baseline,
      authenticated,
      throughputRatio: authenticated.requestsPerSecond / baseline.requestsPerSecond,
      p99Ratio: authenticated.p99Ms / Math.max(baseline.p99Ms, 0.001),
    };
  } finally {
    await cp.close();
  }
}

export function report(figures: AuthMeFigures): string {
  const row = (f: LoadFigures) =>
    `${f.path.padEnd(14)} ${f.requestsPerSecond.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50Ms).padStart(4)} ms   p99 ${String(f.p99Ms).padStart(4)} ms   non-2xx ${f.non2xx}`;
  return [
    'auth: authenticated GET /v1/auth/me vs unauthenticated GET /healthz (same process, same run)',
    `  baseline      ${row(figures.baseline)}`,
    `  authenticated ${row(figures.authenticated)}`,
    `  ratio: throughput ${figures.throughputRatio.toFixed(2)}x of baseline, p99 ${figures.p99Ratio.toFixed(2)}x of baseline`,
  ].join('\n');
}
