import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'light-my-request';
import pg from 'pg';
import type { QueryRunner } from 'typeorm';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { verifyChain } from '../helpers/audit.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { agent, enrollingPusher, payload, remoteServer, stdioServer } from '../helpers/fleet.js';

/**
 * The shape of a sync's transaction, statement by statement (issue #15, fleet ingest): set-based SQL whose
 * statement count does not grow with the payload, and the tenant's audit chain head (which every writer of the
 * tenant waits for until commit) taken only at the end, so concurrent syncs of one tenant overlap until then.
 */
describe('fleet sync statements', () => {
  let t: TestApp;
  let admin: string;
  let pusher: ReturnType<typeof enrollingPusher<Response>>;
  let transactions = new Map<QueryRunner, string[]>();
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    pusher = enrollingPusher((options) => t.app.inject(options), push);
    const logger = t.db.dataSource.logger;
    const logQuery = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      if (runner) transactions.set(runner, [...(transactions.get(runner) ?? []), query]);
      return logQuery(query, parameters, runner);
    };
  });
  afterAll(() => t.close());

  /** The statements of the sync's own transaction (the one that wrote fleet_endpoints), in order. */
  const syncStatements = async (body: object): Promise<string[]> => {
    transactions = new Map();
    const res = await pusher(body);
    expect({ status: res.statusCode, errors: t.errors() }).toEqual({ status: 200, errors: [] });
    const ofSync = [...transactions.values()].filter((list) =>
      list.some((q) => /INSERT INTO fleet_endpoints/.test(q)),
    );
    expect(ofSync).toHaveLength(1);
    const list = ofSync[0];
    return list.slice(list.indexOf('START TRANSACTION'), list.lastIndexOf('COMMIT') + 1);
  };

  /** No remote server, so no upstream to name. */
  const local = (id: string) => payload(id, [agent('claude', [stdioServer('fs')])]);
  const small = (id: string) =>
    payload(id, [agent('claude', [remoteServer('jira', `https://${id}.example.com/jira`)])]);
  const large = (id: string) =>
    payload(
      id,
      ['claude', 'cursor', 'windsurf'].map((name) =>
        agent(
          name,
          [
            stdioServer('filesystem'),
            stdioServer('git'),
            remoteServer('github', `https://${id}.example.com/${name}/github`),
            remoteServer('linear', `https://${id}.example.com/${name}/linear`),
          ],
          'claude-desktop',
        ),
      ),
    );

  it('a first push takes as many statements for 3 agents and 6 new upstreams as for 1 and 1', async () => {
    const one = await syncStatements(small('st-small'));
    const many = await syncStatements(large('st-large'));
    expect(many.length).toBe(one.length);
  });

  it('a repeated push (endpoint credential, nothing new) takes as many statements whatever its size', async () => {
    const one = await syncStatements(small('st-small'));
    const many = await syncStatements(large('st-large'));
    expect(many.length).toBe(one.length);
    expect(one.length).toBeLessThanOrEqual(7);
  });

  it('a first push is five statements: its locks (the enrollment read with them), one write, count with append', async () => {
    const statements = await syncStatements(local('st-five'));
    expect(statements).toEqual([
      'START TRANSACTION',
      expect.stringMatching(/pg_advisory_xact_lock[\s\S]*FROM fleet_enrollments/),
      // the enrollment's re-check, the credential, the enrollment and the inventory: one statement
      expect.stringMatching(
        /JOIN fleet_enrollments[\s\S]*INSERT INTO api_keys[\s\S]*INSERT INTO fleet_enrollments[\s\S]*INSERT INTO fleet_endpoints/,
      ),
      // the agent count and the audit append (which locks the head after the count): one statement
      expect.stringMatching(/INSERT INTO fleet_usage[\s\S]*FROM audit_heads[\s\S]*INSERT INTO audit_entries/),
      'COMMIT',
    ]);
  });

  it('concurrent syncs of one tenant share statements: a group is as many statements as a sync alone', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `st-group-${i}`);
    transactions = new Map();
    const responses = await Promise.all(ids.map((id) => pusher(local(id))));
    expect(responses.map((r) => r.statusCode)).toEqual(ids.map(() => 200));
    const ofSyncs = [...transactions.values()]
      .map((list) => list.slice(list.lastIndexOf('START TRANSACTION'), list.lastIndexOf('COMMIT') + 1))
      .filter((list) => list.some((q) => /INSERT INTO fleet_endpoints/.test(q)));
    // Fewer transactions than syncs (some shared a commit), and none of them, whatever its size, more than the five
    // statements of a sync alone: no savepoint, no statement per sync.
    expect(ofSyncs.length).toBeLessThan(ids.length);
    for (const list of ofSyncs) {
      expect(list.length).toBeLessThanOrEqual(5);
      expect(list.filter((q) => /SAVEPOINT/.test(q))).toEqual([]);
    }
  });

  it('the audit chain head is locked after every inventory, enrollment and quota write', async () => {
    for (const body of [small('st-first'), small('st-first')]) {
      const statements = await syncStatements(body);
      const firstAudit = statements.findIndex((q) => /audit_/.test(q));
      const lastOther = statements.findLastIndex((q) =>
        /fleet_(?!usage)|api_keys|upstream_names|idempotency_keys/.test(q),
      );
      expect(firstAudit).toBeGreaterThan(lastOther);
      // Both events of an enrolling push (endpoint_enrolled, synced) go in with one append, and (no checkpoint
      // being due) that one statement is also what locks the head: held for that statement and the commit only.
      // The agent count (an enrolling push adds one) is the same statement, taken before the head (below).
      expect(statements.filter((q) => /INSERT INTO audit_entries/.test(q))).toHaveLength(1);
      expect(statements.slice(firstAudit)).toEqual([expect.stringMatching(/FOR UPDATE/), 'COMMIT']);
    }
  });

  it('the statement that counts and appends takes the agent count before it waits for the chain head', async () => {
    const tenant = await createTenant(t.app);
    const pusher = enrollingPusher(
      (options) => t.app.inject(options),
      (await createKey(t.app, tenant, 'fleet-push')).raw,
    );
    expect((await pusher(local('order-0'))).statusCode).toBe(200);
    const connect = async () => {
      const client = new pg.Client({ connectionString: t.db.url });
      await client.connect();
      return client;
    };
    // Another writer of the tenant's chain holds the head (as an audit ingest does until it commits).
    const holder = await connect();
    const probe = await connect();
    try {
      await holder.query('BEGIN');
      const {
        rows: [{ pid }],
      } = await holder.query<{ pid: number }>(
        `SELECT pg_backend_pid() AS pid FROM audit_heads WHERE tenant_id = $1 FOR UPDATE`,
        [tenant],
      );
      const push = pusher(local('order-1'));
      let waiting = false;
      for (let i = 0; i < 500 && !waiting; i++) {
        const { rows } = await probe.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
          [pid],
        );
        waiting = rows[0].n === 1;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(waiting).toBe(true);
      // The push holds the count row while it waits for the head: count, then head, the order of every fleet
      // transaction (a sync written apart counts in one statement and appends in a later one), so none deadlock.
      await probe.query('BEGIN');
      await expect(
        probe.query(`SELECT agents FROM fleet_usage WHERE tenant_id = $1 FOR UPDATE NOWAIT`, [tenant]),
      ).rejects.toMatchObject({ code: '55P03' });
      await probe.query('ROLLBACK');
      await holder.query('COMMIT');
      expect((await push).statusCode).toBe(200);
    } finally {
      await holder.end();
      await probe.end();
    }
    const [usage] = (await t.db.dataSource.query(
      `SELECT agents, (SELECT count(*)::int FROM fleet_agents WHERE tenant_id = $1) AS rows
         FROM fleet_usage WHERE tenant_id = $1`,
      [tenant],
    )) as { agents: number; rows: number }[];
    expect(usage).toEqual({ agents: 2, rows: 2 });
    expect(t.errors()).toEqual([]);
  });

  it('concurrent enrolling pushes and re-syncs of one tenant all land, counted once, on a chain that verifies', async () => {
    const known = ['cc-1', 'cc-2', 'cc-3', 'cc-4'];
    for (const id of known) await syncStatements(small(id));
    const responses = await Promise.all([
      ...['cc-5', 'cc-6', 'cc-7', 'cc-8'].map((id) => pusher(large(id))), // enroll: audit twice, +3 agents
      ...known.map((id) => pusher(large(id))), // credential: +2 agents
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual(new Array(8).fill(200));
    expect(t.errors()).toEqual([]);
    const [usage] = (await t.db.dataSource.query(
      `SELECT u.agents, (SELECT count(*)::int FROM fleet_agents a WHERE a.tenant_id = u.tenant_id) AS rows
         FROM fleet_usage u JOIN fleet_agents x ON x.tenant_id = u.tenant_id AND x.source_id = 'cc-1'`,
    )) as { agents: number; rows: number }[];
    expect(usage.agents).toBe(usage.rows);
    expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
  });
});

describe('fleet sync audit records when a checkpoint falls due', () => {
  it('concurrent syncs still sign a checkpoint in the transaction that makes one due, on a chain that verifies', async () => {
    const t = await startTestApp({ env: { AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '3' } });
    try {
      const tenant = await createTenant(t.app);
      const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
      const admin = (await createKey(t.app, tenant, 'admin')).raw;
      const pusher = enrollingPusher((options) => t.app.inject(options), push);
      const body = (id: string) => payload(id, [agent('claude', [stdioServer('fs')])]);
      for (let round = 0; round < 3; round++) {
        const ids = Array.from({ length: 6 }, (_, i) => `cp-${i}`);
        const responses = await Promise.all(ids.map((id) => pusher(body(id))));
        expect(responses.map((r) => r.statusCode)).toEqual(new Array(6).fill(200));
      }
      expect(t.errors()).toEqual([]);
      const [head] = (await t.db.dataSource.query(
        `SELECT seq::int, checkpointed_seq::int AS signed,
                (SELECT count(*)::int FROM audit_checkpoints c WHERE c.tenant_id = h.tenant_id) AS checkpoints,
                (SELECT count(*)::int FROM audit_checkpoints c
                   JOIN audit_entries e ON e.tenant_id = c.tenant_id AND e.seq = c.seq
                  WHERE c.tenant_id = h.tenant_id AND c.xmin::text <> e.xmin::text) AS signed_elsewhere
           FROM audit_heads h WHERE tenant_id = $1`,
        [tenant],
      )) as { seq: number; signed: number; checkpoints: number; signed_elsewhere: number }[];
      // 18 syncs (6 enrolling: 2 entries each) after the tenant's own entries: never 3 unsigned entries left,
      // and each checkpoint signed by the transaction that wrote its entry. (A group commit of several syncs
      // appends their entries at once and signs once, after the last.)
      expect(head.seq).toBeGreaterThanOrEqual(24);
      expect(head.seq - head.signed).toBeLessThan(3);
      expect(head.checkpoints).toBeGreaterThanOrEqual(3);
      expect(head.signed_elsewhere).toBe(0);
      // The agents were counted once each, also by groups whose append took the locked path after the count.
      const [usage] = (await t.db.dataSource.query(
        `SELECT agents, (SELECT count(*)::int FROM fleet_agents WHERE tenant_id = $1) AS rows
           FROM fleet_usage WHERE tenant_id = $1`,
        [tenant],
      )) as { agents: number; rows: number }[];
      expect(usage).toEqual({ agents: 6, rows: 6 });
      expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
    } finally {
      await t.close();
    }
  });
});
