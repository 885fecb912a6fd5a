import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresRateLimiter } from '../../apps/gateway/src/rate-limit/postgres-rate-limiter.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * Replicas start together (a rollout, the two-replica e2e): each creates the shared rate-limit table at start.
 * Plain `CREATE TABLE IF NOT EXISTS` races on the catalog and one replica exited with
 * `duplicate key value violates unique constraint "pg_type_typname_nsp_index"` (seen in CI). The same burst on a
 * fresh bucket also over-admitted: a refused decision that read the row from a snapshot older than the concurrent
 * admissions was re-decided in JS as allowed (8 of 8 admitted with a limit of 5), or found no row and threw.
 */
describe('postgres rate limiter start', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('eight replicas creating the table at once all start, and share one counter', async () => {
    for (let round = 0; round < 3; round++) {
      await db.dataSource.query('DROP TABLE IF EXISTS agent_bom_gateway_rate_limits');
      const limiters = Array.from({ length: 8 }, () => new PostgresRateLimiter(db.url, 1));
      try {
        await expect(Promise.all(limiters.map((l) => l.init()))).resolves.toHaveLength(8);
        const rate = { limit: 5, windowMs: 60_000, text: '5/min' };
        const decisions = await Promise.all(limiters.map((l) => l.consume(`tenant:r${round}`, rate)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      } finally {
        await Promise.all(limiters.map((l) => l.close()));
      }
    }
  });

  it("decides on connections that commit without waiting for the WAL flush, even with a URL's own options", async () => {
    // A URL carrying its own `options` (another setting) must not drop the limiter's.
    const url = new URL(db.url);
    url.searchParams.set('options', '-c statement_timeout=5000');
    const limiter = new PostgresRateLimiter(url.toString(), 2);
    try {
      await limiter.init();
      const rate = { limit: 3, windowMs: 60_000, text: '3/min' };
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.consume('tenant:sync', rate));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      const pool = (limiter as unknown as { pool: { query(sql: string): Promise<{ rows: unknown[] }> } })
        .pool;
      const settings = await Promise.all(
        [0, 1].map(() => pool.query('SHOW synchronous_commit').then((r) => r.rows[0])),
      );
      expect(settings).toEqual([{ synchronous_commit: 'off' }, { synchronous_commit: 'off' }]);
      const timeout = await pool.query('SHOW statement_timeout');
      expect(timeout.rows[0]).toEqual({ statement_timeout: '5s' });
      // The control plane's own sessions are untouched.
      const [own] = (await db.dataSource.query('SHOW synchronous_commit')) as Array<Record<string, string>>;
      expect(own.synchronous_commit).toBe('on');
    } finally {
      await limiter.close();
    }
  });
});
