import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { systemPrincipal } from '../../src/core/auth/principal.js';
import { controlPlaneEvent } from '../../src/modules/audit/audit-events.js';
import { AuditWriter, prepareEvent } from '../../src/modules/audit/audit-writer.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent, push, verifyChain } from '../helpers/audit.js';
import { createKey, createTenant } from '../helpers/factories.js';

/**
 * The ingest path's cost in round trips, and what must hold however it is cut: a pushed batch into an existing
 * chain is one statement (head lock, duplicate check, hashes, insert, head move), yet a checkpoint that falls due
 * is still signed in the same transaction, hashes computed by PostgreSQL verify with the Node verifier, and an
 * id a concurrent replica stored meanwhile is still a duplicate, never a second copy or an error.
 */
describe('audit ingest: one statement per commit, every guarantee kept', () => {
  let t: TestApp;
  let replica: TestApp;
  let tenant: string;
  let proxy: string;
  let analyst: string;
  beforeAll(async () => {
    const env = { AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '150' };
    t = await startTestApp({ env });
    replica = await startTestApp({ env, db: t.db });
    tenant = await createTenant(t.app);
    proxy = (await createKey(t.app, tenant, 'proxy')).raw;
    analyst = (await createKey(t.app, tenant, 'analyst')).raw;
  });
  afterAll(async () => {
    await replica.close();
    await t.close();
  });

  const auditStatements = (calls: unknown[][]) =>
    calls
      .map(([query]) => (typeof query === 'string' ? query : (query as { text: string }).text))
      .filter((sql) => /audit_|^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)/i.test(sql));

  it('appends a batch to an existing chain in one statement: no BEGIN/COMMIT, no separate lookups', async () => {
    expect((await push(t, proxy, [auditEvent()])).statusCode).toBe(200); // the key is now cached
    const spy = jest.spyOn(pg.Client.prototype, 'query');
    try {
      const res = await push(
        t,
        proxy,
        Array.from({ length: 100 }, () => auditEvent()),
      );
      expect(res.json()).toMatchObject({ accepted: 100 });
      expect(auditStatements(spy.mock.calls as unknown[][])).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    expect(await verifyChain(t, analyst)).toMatchObject({ ok: true });
  });

  it('the batch that makes a checkpoint due commits with its checkpoint', async () => {
    const res = await push(
      t,
      proxy,
      Array.from({ length: 100 }, () => auditEvent()),
    );
    const { last_seq } = res.json() as { last_seq: number };
    expect(last_seq).toBeGreaterThanOrEqual(150);
    const [checkpoint] = await t.db.dataSource.query(
      `SELECT seq::int FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1`,
      [tenant],
    );
    expect(checkpoint).toEqual({ seq: last_seq });
    expect(await verifyChain(t, analyst)).toMatchObject({ ok: true, checkpointed_to: last_seq });
  });

  it('hashes of events with escapes and non-ASCII text verify with the Node verifier', async () => {
    const texts = ['quote " backslash \\ slash /', 'é ü ß € 漢字', 'astral 🦊 𝄞', "<>&' ~"];
    const res = await push(
      t,
      proxy,
      texts.map((reason, i) => auditEvent({ reason, tool: texts[(i + 1) % texts.length] })),
    );
    expect(res.json()).toMatchObject({ accepted: texts.length });
    expect(await verifyChain(t, analyst)).toMatchObject({ ok: true, first_broken: null });
  });

  it('an id another replica stores while this one waits for the head is a duplicate, not an error', async () => {
    const events = Array.from({ length: 20 }, () => auditEvent());
    const holder = t.db.dataSource.createQueryRunner();
    await holder.connect();
    let results: Array<{ statusCode: number; json(): unknown }>;
    try {
      await holder.startTransaction();
      await holder.query('SELECT seq FROM audit_heads WHERE tenant_id = $1 FOR UPDATE', [tenant]);
      const pushes = [push(t, proxy, events), push(replica, proxy, events)];
      // Both replicas' writes have started (their snapshots are taken) and wait for the head.
      for (let waited = 0; ; waited += 20) {
        const [{ n }] = await t.db.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%audit_heads%'`,
        );
        if (n >= 2) break;
        if (waited > 10_000) throw new Error('the two writes never waited for the head lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.commitTransaction();
      results = await Promise.all(pushes);
    } finally {
      await holder.release();
    }
    const bodies = results.map((r) => {
      expect(r.statusCode).toBe(200);
      return r.json() as { accepted: number; duplicates: number; conflicts: number };
    });
    expect(bodies.map((b) => [b.accepted, b.duplicates, b.conflicts]).sort()).toEqual([
      [0, 20, 0],
      [20, 0, 0],
    ]);
    expect(await verifyChain(t, analyst)).toMatchObject({ ok: true, first_broken: null });
  });
});

describe('audit ingest: the one statement is linear in the size of the commit', () => {
  let big: TestApp;
  // No checkpoint falls due, so every append is the one statement without a transaction around it.
  beforeAll(async () => {
    big = await startTestApp({ env: { AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '1000000' } });
  });
  afterAll(() => big.close());

  it('the statement is linear in its size: a full group commit costs per event what a small one does', async () => {
    // The head lock is held for this statement, so its cost per event is every writer's of the tenant. A commit
    // takes up to 5,000 events (five full batches); chaining them by subscripting one array of all their JSON
    // made it quadratic (each subscript walks the array from its start).
    const chained = await createTenant(big.app);
    const principal = systemPrincipal(chained, 'system:test');
    const writer = big.app.get(AuditWriter);
    const perEvent = async (size: number) => {
      let best = Infinity;
      for (let round = 0; round < 2; round++) {
        const events = Array.from({ length: size }, (_, i) =>
          prepareEvent(
            controlPlaneEvent(
              principal,
              {
                type: 'policy.updated',
                resource_type: 'policy',
                resource_id: randomUUID(),
                details: { version: i, rules: 200, name: randomUUID(), enabled: true },
              },
              new Date(),
            ),
          ),
        );
        // As the ingest queue hands a commit over: batches of at most 1,000.
        const groups = Array.from({ length: Math.ceil(size / 1000) }, (_, g) =>
          events.slice(g * 1000, (g + 1) * 1000),
        );
        const started = performance.now();
        await writer.appendGroups(chained, groups);
        best = Math.min(best, (performance.now() - started) / size);
      }
      return best;
    };
    const small = await perEvent(500);
    const full = await perEvent(5000);
    expect(full / small).toBeLessThan(2);
    expect(await verifyChain(big, (await createKey(big.app, chained, 'analyst')).raw)).toMatchObject({
      ok: true,
    });
  }, 120_000);
});
