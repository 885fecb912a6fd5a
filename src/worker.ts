import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { ConfigError, loadConfig } from './core/config/config.js';
import { migrateWithLock, pendingMigrations } from './core/database/data-source.js';
import { openDatabase } from './core/database/database.js';
import { createLogger, PinoNestLogger } from './core/logging/logger.js';
import { installShutdown } from './main.js';
import { ScanQueue } from './modules/scans/jobs/scan-queue.js';

/**
 * `agent-bom worker`: the scan job queue only (pg-boss workers, supervision, the schedule tick), no HTTP
 * listener. Same configuration as `agent-bom api`; AGENT_BOM_SCAN_WORKERS is the number of jobs it runs at once
 * (0 is a configuration error here). Stops on SIGINT/SIGTERM after the running jobs' current step.
 */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  if (config.scanWorkers === 0)
    throw new ConfigError('AGENT_BOM_SCAN_WORKERS', 'is 0: a worker process needs at least one worker');
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, 'attach-or-start', (line) =>
    logger.debug({ component: 'embedded-postgres' }, line),
  );
  try {
    if (config.migrateOnBoot) await migrateWithLock(db.dataSource);
    const pending = await pendingMigrations(db.dataSource);
    if (pending.length)
      throw new Error(
        `${pending.length} migration(s) pending: run agent-bom migrate (or start agent-bom api)`,
      );
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, db.dataSource), {
    logger: new PinoNestLogger(logger),
  });
  const queue = app.get(ScanQueue);
  await queue.startWorkers(config.scanWorkers);
  logger.info({ workers: config.scanWorkers, worker: queue.workerId }, 'scan worker running');
  process.stderr.write(
    `agent-bom worker running ${config.scanWorkers} scan worker(s) as ${queue.workerId}\n  database: ${db.description}\n`,
  );
  installShutdown(app, db, logger, 30_000);
}
