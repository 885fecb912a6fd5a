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

describe('migration RoutableUpstreamNames', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('renames the unroutable names discovery handed out, keeps routable ones, and moves their approvals', async () => {
    // Back to just before it (later migrations are undone first), seed the old names, then migrate forward.
    const at = ALL.indexOf('RoutableUpstreamNames1764300000000');
    expect(at).toBeGreaterThan(0);
    for (let i = ALL.length; i > at; i--) await db.dataSource.undoLastMigration({ transaction: 'each' });
    const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
    await q(`INSERT INTO tenants (id, name) VALUES ('t1', 't1')`);
    const names: Array<[string, string, string, number]> = [
      ['My-Server', 'https://a.example/mcp', 'My-Server', 0],
      ['My Server', 'https://b.example/mcp', 'My Server', 0],
      ['My Server', 'https://c.example/mcp', 'My Server-1', 1],
      ['jira', 'https://d.example/mcp', 'jira', 0],
    ];
    for (const [i, [base, url, assigned, ordinal]] of names.entries()) {
      await q(
        `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at)
         VALUES ('t1', $1, $2, $3, $4, now() + $5 * interval '1 second')`,
        [base, url, assigned, ordinal, i],
      );
    }
    await q(
      `INSERT INTO upstream_approvals (tenant_id, name, state, decided_by, decided_at)
       VALUES ('t1', 'My Server-1', 'approved', 'key:admin', now())`,
    );
    expect(await migrateWithLock(db.dataSource)).toEqual(ALL.slice(at));
    const rows = (await q(`SELECT url, assigned_name, ordinal FROM upstream_names ORDER BY url`)) as Array<{
      url: string;
      assigned_name: string;
      ordinal: number;
    }>;
    expect(rows.map((r) => [r.url.slice(8, 9), r.assigned_name, r.ordinal])).toEqual([
      ['a', 'My-Server', 0],
      ['b', 'My-Server-1', 1],
      ['c', 'My-Server-2', 2],
      ['d', 'jira', 0],
    ]);
    expect(await q(`SELECT name, state FROM upstream_approvals`)).toEqual([
      { name: 'My-Server-2', state: 'approved' },
    ]);
  });
});
