import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/core/config/config.js';
import { createLogger } from '../../src/core/logging/logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  config: AppConfig;
  /** Every log line the app wrote, at trace level, for secret-leak assertions. */
  logs: string[];
  /** Messages of errors the app logged (unexpected 500s), to make a failing assertion explain itself. */
  errors(): string[];
  close(): Promise<void>;
}

/**
 * The real control-plane app (the same `createApp` that `agent-bom api` runs) on its own database.
 * Requests go through `app.inject`: full Fastify + Nest pipeline, no socket.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; db?: TestDatabase; migrated?: boolean } = {},
): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase({ migrated: options.migrated }));
  const config = loadConfig({
    AGENT_BOM_SIGNING_KEY_FILE: testSigningKeyFile(),
    ...options.env,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'trace',
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await createApp(config, db.dataSource, createLogger('trace', sink));
  return {
    app,
    db,
    config,
    logs,
    errors: () =>
      logs
        .map((line) => JSON.parse(line) as { level: number; err?: { message?: string }; msg?: string })
        .filter((entry) => entry.level >= 50)
        .map((entry) => entry.err?.message ?? entry.msg ?? ''),
    async close() {
      await app.close();
      if (!options.db) await db.drop();
    },
  };
}

/**
 * The Ed25519 key of this test run, made by jest's global setup and removed by its teardown, so that no test
 * reads or writes the developer's data dir. Tests that need their own key pass AGENT_BOM_SIGNING_KEY_FILE in `env`.
 */
export function testSigningKeyFile(): string {
  const file = process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE;
  if (!file) throw new Error('no test signing key: run the suite through `npm test` (jest globalSetup)');
  return file;
}
