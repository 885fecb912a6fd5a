import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MIGRATIONS } from '../../migrations/index.js';
import { createDataSource, migrateWithLock, pendingMigrations } from '../../src/core/database/data-source.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ALL = MIGRATIONS.map((m) => new m().name);

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('are named <Name><13-digit timestamp> and listed oldest first', () => {
    const stamps = ALL.map((name) => Number(/(\d{13})$/.exec(name)?.[1]));
    expect(stamps.every(Number.isFinite)).toBe(true);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it('three replicas migrating one empty database at once apply each migration exactly once', async () => {
    const replicas = [createDataSource(db.url, 2), createDataSource(db.url, 2), createDataSource(db.url, 2)];
    await Promise.all(replicas.map((r) => r.initialize()));
    try {
      const applied = await Promise.all(replicas.map((r) => migrateWithLock(r)));
      expect(applied.flat()).toEqual(ALL);
      const rows = (await db.dataSource.query('SELECT name FROM schema_migrations ORDER BY id')) as {
        name: string;
      }[];
      expect(rows.map((r) => r.name)).toEqual(ALL);
      expect(await pendingMigrations(db.dataSource)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.destroy()));
    }
  });

  it('every migration reverts cleanly, newest first, down to an empty schema, and re-applies', async () => {
    for (let i = ALL.length - 1; i >= 0; i--) {
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await pendingMigrations(db.dataSource)).toEqual(ALL.slice(i));
    }
    const tables = (await db.dataSource.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
    )) as unknown[];
    expect(tables).toEqual([]);
    expect(await migrateWithLock(db.dataSource)).toEqual(ALL);
  });
});
