import os from 'node:os';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';
import { systemPrincipal, type Principal } from '../../src/core/auth/principal.js';
import { loadConfig } from '../../src/core/config/config.js';
import { pendingMigrations } from '../../src/core/database/data-source.js';
import { openDatabase, type Database } from '../../src/core/database/database.js';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { withSpinner } from '../progress.js';
import { UsageError } from './usage-error.js';

export { UsageError };

export interface CliContext {
  app: INestApplicationContext;
  db: Database;
  /** The operator at this machine, acting in one tenant. */
  principal(tenantId: string): Principal;
}

/**
 * Opens the database the control plane uses (DATABASE_URL, or the embedded instance under the data dir: the
 * running one if `npm start` is up, else started for this command and stopped after), refuses to touch a schema
 * that is not migrated, and runs `fn` with the control plane's own services.
 */
export async function withControlPlane<T>(
  options: { json?: boolean; requireMigrated?: boolean },
  fn: (context: CliContext) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const db = await withSpinner('opening database', options.json, () =>
    openDatabase(config, 'attach-or-start'),
  );
  try {
    if (options.requireMigrated !== false) {
      const pending = await pendingMigrations(db.dataSource);
      if (pending.length) {
        throw new Error(
          `the database schema is not up to date (${pending.length} migration(s) pending): run agent-bom migrate`,
        );
      }
    }
    const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, db.dataSource), {
      logger: false,
      abortOnError: false,
    });
    const subject = `cli:${os.userInfo().username}`;
    try {
      return await fn({ app, db, principal: (tenantId) => systemPrincipal(tenantId, subject) });
    } finally {
      await app.close();
    }
  } catch (error) {
    if (error instanceof DomainError && error.code === 'VALIDATION_ERROR')
      throw new UsageError(error.message);
    throw error;
  } finally {
    await db.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
