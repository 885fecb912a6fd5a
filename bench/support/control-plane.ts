import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Role } from '../../libs/contracts/src/index.js';
import { createApp } from '../../src/app.js';
import { systemPrincipal } from '../../src/core/auth/principal.js';
import { loadConfig } from '../../src/core/config/config.js';
import { migrateWithLock } from '../../src/core/database/data-source.js';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/core/database/database.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';

export interface BenchControlPlane {
  app: NestFastifyApplication;
  db: Database;
  baseUrl: string;
  tenant: string;
  /** Its database's URL and name (a scratch database on DATABASE_URL's server, or the embedded server's). */
  databaseUrl: string;
  database: string;
  key(role: Role): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real listening control plane for a benchmark: DATABASE_URL when set, else a throw-away embedded
 * PostgreSQL; one fresh tenant. Logs at warn so request logging does not dominate the figures.
 */
export async function startBenchControlPlane(env: Record<string, string> = {}): Promise<BenchControlPlane> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-bench-'));
  // On a shared server, a database of its own (dropped after), never the server's default one.
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(dataDir) : undefined;
  const config = loadConfig({
    ...process.env,
    ...env,
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    AGENT_BOM_DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
    PORT: '0',
  });
  const db = await openDatabase(config, 'own');
  await migrateWithLock(db.dataSource);
  const app = await createApp(config, db.dataSource, createLogger('error'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const tenant = `bench-${Date.now().toString(36)}`;
  await app.get(TenantsService).create(systemPrincipal(tenant, 'bench'), { id: tenant });
  const address = app.getHttpServer().address();
  const databaseUrl =
    db.dataSource.options.type === 'postgres' ? String(db.dataSource.options.url ?? '') : '';
  return {
    app,
    db,
    tenant,
    databaseUrl,
    database: databaseUrl ? decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) : '',
    baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    key: async (role) =>
      (await app.get(ApiKeysService).create(systemPrincipal(tenant, 'bench'), { role })).raw_key,
    async close() {
      await app.close();
      await db.close();
      await scratch?.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** p-th percentile (0-100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns each task's duration in ms. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number[]> {
  const durations: number[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const start = performance.now();
      await task(i);
      durations[i] = performance.now() - start;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return durations;
}

/** A database of its own on DATABASE_URL's server, or an embedded server in the temp dir; dropped after. */
export async function scratchDatabase(dataDir: string): Promise<{ url: string; drop(): Promise<void> }> {
  let embedded: Database | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embedded = await openDatabase(loadConfig({ AGENT_BOM_DATA_DIR: dataDir }), 'own');
    serverUrl =
      embedded.dataSource.options.type === 'postgres' ? String(embedded.dataSource.options.url) : '';
  }
  const name = `abom_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (embedded) await embedded.close();
    },
  };
}
