import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource, migrateWithLock, pendingMigrations } from '../../src/core/database/data-source.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('three replicas migrating one empty database at once apply each migration exactly once', async () => {
    const replicas = [createDataSource(db.url, 2), createDataSource(db.url, 2), createDataSource(db.url, 2)];
    await Promise.all(replicas.map((r) => r.initialize()));
    try {
      const applied = await Promise.all(replicas.map((r) => migrateWithLock(r)));
      expect(applied.flat()).toEqual(['Init1763683200000']);
      const rows = await db.dataSource.query('SELECT name FROM schema_migrations');
      expect(rows).toEqual([{ name: 'Init1763683200000' }]);
      expect(await pendingMigrations(db.dataSource)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.destroy()));
    }
  });

  it('every migration reverts cleanly and re-applies', async () => {
    await db.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await pendingMigrations(db.dataSource)).toEqual(['Init1763683200000']);
    const tables = await db.dataSource.query(`SELECT to_regclass('api_keys') AS t`);
    expect(tables[0].t).toBeNull();
    expect(await migrateWithLock(db.dataSource)).toEqual(['Init1763683200000']);
  });
});
