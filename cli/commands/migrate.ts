import { loadConfig } from '../../src/core/config/config.js';
import { migrateWithLock } from '../../src/core/database/data-source.js';
import { openDatabase } from '../../src/core/database/database.js';
import { withSpinner } from '../progress.js';
import { printJson } from './context.js';

export async function migrate(options: { json?: boolean }): Promise<number> {
  const config = loadConfig();
  const db = await withSpinner('opening database', options.json, () =>
    openDatabase(config, 'attach-or-start'),
  );
  try {
    const applied = await withSpinner('applying migrations', options.json, () =>
      migrateWithLock(db.dataSource),
    );
    if (options.json) printJson({ applied, database: db.description });
    else if (applied.length)
      process.stdout.write(`applied ${applied.length} migration(s): ${applied.join(', ')}\n`);
    else process.stdout.write('database schema is up to date\n');
    return 0;
  } finally {
    await db.close();
  }
}
