import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createApp } from '../../src/app.js';
import { systemPrincipal } from '../../src/core/auth/principal.js';
import { loadConfig } from '../../src/core/config/config.js';
import { migrateWithLock } from '../../src/core/database/data-source.js';
import { openDatabase } from '../../src/core/database/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';

export interface LoadFigures {
  path: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

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
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-bench-'));
  const config = loadConfig({ ...process.env, AGENT_BOM_DATA_DIR: dataDir, LOG_LEVEL: 'warn', PORT: '0' });
  const db = await openDatabase(config, 'own');
  try {
    await migrateWithLock(db.dataSource);
    const app = await createApp(config, db.dataSource, createLogger('warn'));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const tenant = `bench-${Date.now().toString(36)}`;
      await app.get(TenantsService).create(systemPrincipal(tenant, 'bench'), { id: tenant });
      const { raw_key } = await app
        .get(ApiKeysService)
        .create(systemPrincipal(tenant, 'bench'), { role: 'viewer' });
      const address = app.getHttpServer().address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

      const load = async (url: string, headers: Record<string, string> = {}): Promise<LoadFigures> => {
        const result = await autocannon({ url: base + url, connections, duration: seconds, headers });
        return {
          path: url,
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
        };
      };
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
      await app.close();
    }
  } finally {
    await db.close();
    await fs.rm(dataDir, { recursive: true, force: true });
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
