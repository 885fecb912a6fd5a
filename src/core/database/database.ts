import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { createDataSource } from './data-source.js';
import { openEmbeddedPostgres, type EmbeddedMode } from './embedded-postgres.js';

/** An open database: the data source plus how to close it (and the embedded server, when we own one). */
export interface Database {
  dataSource: DataSource;
  /** Where it is, for humans: never includes the password. */
  description: string;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens `DATABASE_URL`, or the embedded PostgreSQL under the data dir when it is unset.
 * `mode` says whether we own the embedded server (the control plane) or may attach to a running one (CLI).
 */
export async function openDatabase(
  config: AppConfig,
  mode: EmbeddedMode,
  log: (line: string) => void = () => undefined,
): Promise<Database> {
  if (config.databaseUrl) {
    const dataSource = createDataSource(config.databaseUrl, config.dbPoolSize);
    await dataSource.initialize();
    return {
      dataSource,
      description: `PostgreSQL at ${redactUrl(config.databaseUrl)}`,
      embedded: false,
      close: () => closeDataSource(dataSource),
    };
  }
  const server = await openEmbeddedPostgres(config.dataDir, mode, log);
  const dataSource = createDataSource(server.url, config.dbPoolSize);
  try {
    await dataSource.initialize();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    dataSource,
    description: `embedded PostgreSQL on 127.0.0.1:${server.port} (data in ${server.clusterDir})`,
    embedded: true,
    async close() {
      await closeDataSource(dataSource);
      await server.stop();
    },
  };
}

/**
 * Waits (up to `timeoutMs`) for queries still running to finish, then closes the pool. A handler whose client
 * hung up keeps running after the HTTP server closed; destroying the pool under it would fail its query.
 */
export async function closeDataSource(dataSource: DataSource, timeoutMs = 5000): Promise<void> {
  const pool = (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number } })
    .master;
  const deadline = Date.now() + timeoutMs;
  while (pool && pool.totalCount > pool.idleCount && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await dataSource.destroy();
}

/** A URL with its password replaced, safe for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
