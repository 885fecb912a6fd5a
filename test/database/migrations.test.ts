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

  it('three replicas migrating one empty database at once apply each migration exactly once', async () => {
    const replicas = [createDataSource(db.url, 2), createDataSource(db.url, 2), createDataSource(db.url, 2)];
    await Promise.all(replicas.map((r) => r.initialize()));
    try {
      const applied = await Promise.all(replicas.map((r) => migrateWithLock(r)));
      expect(applied.flat()).toEqual(ALL);
      const rows = await db.dataSource.query('SELECT name FROM schema_migrations ORDER BY id');
      expect(rows).toEqual(ALL.map((name) => ({ name })));
      expect(await pendingMigrations(db.dataSource)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.destroy()));
    }
  });

  it('every migration reverts cleanly and re-applies', async () => {
    for (let i = ALL.length - 1; i >= 0; i--) {
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await pendingMigrations(db.dataSource)).toEqual(ALL.slice(i));
    }
    for (const table of ['api_keys', 'audit_entries', 'audit_heads', 'audit_checkpoints']) {
      const [row] = await db.dataSource.query(`SELECT to_regclass($1) AS t`, [table]);
      expect({ table, exists: row.t !== null }).toEqual({ table, exists: false });
    }
    expect(await migrateWithLock(db.dataSource)).toEqual(ALL);
  });
});
