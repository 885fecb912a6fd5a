import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'light-my-request';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { verifyChain } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, enrollingPusher, payload, stdioServer } from '../helpers/fleet.js';

/**
 * Group commit of a tenant's concurrent syncs (issue #15, fleet bulk): syncs that arrive while the tenant's
 * commit is in flight are written together in one transaction, each in a savepoint of its own, with one append
 * to the audit chain and one COMMIT. What a client sees does not change: each request gets the answer it would
 * have got alone, and only once the commit that holds its sync is durable.
 */
describe('fleet group commit', () => {
  let t: TestApp;
  let tenant: string;
  let admin: string;
  let pusher: ReturnType<typeof enrollingPusher<Response>>;
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_FLEET_MAX_AGENTS_PER_TENANT: '40' } });
    tenant = await createTenant(t.app);
    const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    pusher = enrollingPusher((options) => t.app.inject(options), push);
    // Real failures inside PostgreSQL: one sync's statement fails, and one sync's COMMIT fails (a deferred
    // constraint trigger runs at commit), each for one source id only.
    await t.db.dataSource.query(`
      CREATE FUNCTION test_refuse_endpoint() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'test trigger refuses endpoint %', NEW.source_id; END $$;
      CREATE TRIGGER test_refuse_statement BEFORE INSERT ON fleet_endpoints
        FOR EACH ROW WHEN (NEW.source_id = 'boom') EXECUTE FUNCTION test_refuse_endpoint();
      CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON fleet_endpoints
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (NEW.source_id = 'commit-boom') EXECUTE FUNCTION test_refuse_endpoint();`);
  });
  afterAll(() => t.close());

  const one = (id: string, agents = 1) =>
    payload(
      id,
      Array.from({ length: agents }, (_, i) => agent(`a${i}`, [stdioServer('fs')])),
    );

  /** How many transactions wrote the `fleet.synced` entries of these endpoints, and how many entries. */
  const commitsOf = async (ids: string[]) => {
    const [row] = (await t.db.dataSource.query(
      `SELECT count(DISTINCT xmin::text)::int AS commits, count(*)::int AS entries FROM audit_entries
        WHERE tenant_id = $1 AND event->>'type' = 'fleet.synced' AND event->>'resource_id' = ANY($2)`,
      [tenant, ids],
    )) as { commits: number; entries: number }[];
    return row;
  };
  const stored = async (ids: string[]) =>
    (
      (await t.db.dataSource.query(
        `SELECT source_id FROM fleet_endpoints WHERE tenant_id = $1 AND source_id = ANY($2) ORDER BY source_id`,
        [tenant, ids],
      )) as { source_id: string }[]
    ).map((r) => r.source_id);
  const usageMatchesRows = async () => {
    const [usage] = (await t.db.dataSource.query(
      `SELECT u.agents, (SELECT count(*)::int FROM fleet_agents a WHERE a.tenant_id = u.tenant_id) AS rows
         FROM fleet_usage u WHERE u.tenant_id = $1`,
      [tenant],
    )) as { agents: number; rows: number }[];
    expect(usage.agents).toBe(usage.rows);
  };

  it('concurrent syncs of one tenant share commits, and each gets the answer it would get alone', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `group-${i}`);
    const responses = await Promise.all(ids.map((id) => pusher(one(id))));
    expect(t.errors()).toEqual([]);
    responses.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        source_id: ids[i],
        synced: 1,
        new: 1,
        updated: 0,
        endpoint_credential: expect.stringMatching(/^abom_/),
      });
    });
    const { commits, entries } = await commitsOf(ids);
    expect(entries).toBe(12);
    expect(commits).toBeLessThan(12);
    // Re-syncs with the endpoint credentials, concurrently: the same, as updates.
    const again = await Promise.all(ids.map((id) => pusher(one(id))));
    again.forEach((res, i) =>
      expect(res.json()).toEqual({ source_id: ids[i], synced: 1, new: 0, updated: 1 }),
    );
    await usageMatchesRows();
    expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
  });

  it('a sync that fails inside a group fails alone, with its own answer; the others land', async () => {
    // Set up the failures: an endpoint revoked by an admin, an Idempotency-Key already used with another body.
    expect((await pusher(one('revoked'))).statusCode).toBe(200);
    const revoked = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/endpoints/revoked/revoke',
      headers: bearer(admin),
    });
    expect(revoked.statusCode).toBe(200);
    expect((await pusher(one('keyed'), { 'idempotency-key': 'key-1' })).statusCode).toBe(200);
    const [{ agents: before }] = (await t.db.dataSource.query(
      `SELECT agents FROM fleet_usage WHERE tenant_id = $1`,
      [tenant],
    )) as { agents: number }[];

    const good = Array.from({ length: 8 }, (_, i) => `fine-${i}`);
    const shared = enrollingPusher((options) => t.app.inject(options), await pushKey());
    const responses = await Promise.all([
      ...good.slice(0, 4).map((id) => pusher(one(id))),
      shared(one('revoked')), // 403: revoked
      pusher(one('boom')), // 500: its statement fails in PostgreSQL
      pusher(one('keyed', 2), { 'idempotency-key': 'key-1' }), // 409: the key was used with another body
      pusher(one('too-many', 40 - before + 1)), // 429: more agents than the quota has left, whatever lands first
      ...good.slice(4).map((id) => pusher(one(id))),
    ]);
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 403, 500, 409, 429, 200, 200, 200, 200]);
    expect(responses[4].json().error.details).toMatchObject({ reason: 'revoked' });
    expect(responses[6].json().error.code).toBe('CONFLICT');
    expect(responses[7].json().error.code).toBe('QUOTA_EXCEEDED');
    expect(t.errors()).toEqual([expect.stringContaining('test trigger refuses endpoint boom')]);
    t.logs.length = 0;
    expect(await stored([...good, 'boom', 'too-many'])).toEqual(good);
    expect((await commitsOf(good)).commits).toBeLessThan(good.length);
    await usageMatchesRows();
    expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
  });

  it('a group whose COMMIT fails answers every request in it with an error, and nothing of it is stored', async () => {
    const ids = [...Array.from({ length: 9 }, (_, i) => `late-${i}`), 'commit-boom'];
    const responses = await Promise.all(ids.map((id) => pusher(one(id))));
    const landed = ids.filter((_, i) => responses[i].statusCode === 200);
    const failed = ids.filter((_, i) => responses[i].statusCode !== 200);
    expect(failed).toContain('commit-boom');
    expect(failed.length).toBeGreaterThan(1); // others shared its commit
    for (const id of failed) expect(responses[ids.indexOf(id)].statusCode).toBe(500);
    // Answered 200 if and only if durable.
    expect(await stored(ids)).toEqual([...landed].sort());
    t.logs.length = 0;
    // The failed ones were told so and can push again.
    const retried = await Promise.all(
      failed.filter((id) => id !== 'commit-boom').map((id) => pusher(one(id))),
    );
    expect(retried.map((r) => r.statusCode)).toEqual(retried.map(() => 200));
    await usageMatchesRows();
    expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
  });

  it('retries with one Idempotency-Key in one group: one sync, the rest replay its answer', async () => {
    const body = one('retried');
    const responses = await Promise.all([
      ...['r-0', 'r-1', 'r-2'].map((id) => pusher(one(id))),
      ...[1, 2, 3].map(() => pusher(body, { 'idempotency-key': 'key-2' })),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual(new Array(6).fill(200));
    const keyed = responses.slice(3).map((r) => r.json() as Record<string, unknown>);
    expect(keyed.filter((r) => r.idempotent_replay)).toHaveLength(2);
    const { endpoint_credential: _once, ...first } = keyed.find((r) => !r.idempotent_replay)!;
    for (const r of keyed.filter((r) => r.idempotent_replay))
      expect(r).toEqual({ ...first, idempotent_replay: true });
    expect(await stored(['retried'])).toEqual(['retried']);
    await usageMatchesRows();
  });

  const pushKey = async () => (await createKey(t.app, tenant, 'fleet-push')).raw;
});

/**
 * A group's locks and its enrollments are read by one statement, whose snapshot is taken before it waits for the
 * locks: a change committed by the lock's holder is not in it. The write checks every enrollment decided on is
 * still so and writes nothing if one is not; the group is then written again one sync at a time.
 */
describe('fleet group commit: an enrollment changed while its lock was awaited', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  // The lock holders and the polling use connections of their own: the app's pool is the tenant's four lanes.
  const connect = async () => {
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    return client;
  };
  /** Holds the enrollment locks of `sourceIds` in a transaction of its own, as an admin's revoke does. */
  const holdEnrollments = async (tenant: string, sourceIds: string[]) => {
    const client = await connect();
    await client.query('BEGIN');
    for (const sourceId of sourceIds) {
      await client.query(
        `SELECT pg_advisory_xact_lock(hashtext('fleet_enroll'), hashtext($1 || chr(31) || $2))`,
        [tenant, sourceId],
      );
    }
    return client;
  };
  /** Until `n` sessions wait for an advisory lock. */
  const untilWaiting = async (n: number) => {
    const client = await connect();
    try {
      for (let i = 0; i < 500; i++) {
        const { rows } = await client.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        );
        if (rows[0].waiting === n) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`not ${n} sessions waiting for a lock`);
    } finally {
      await client.end();
    }
  };
  /** How many transactions wrote the `fleet.synced` entries of these endpoints' two-server pushes. */
  const commitsOf = async (tenant: string, ids: string[]) => {
    const [row] = (await t.db.dataSource.query(
      `SELECT count(DISTINCT xmin::text)::int AS commits FROM audit_entries
        WHERE tenant_id = $1 AND event->>'type' = 'fleet.synced' AND event->>'resource_id' = ANY($2)
          AND event->'details'->>'servers' = '2'`,
      [tenant, ids],
    )) as { commits: number }[];
    return row.commits;
  };

  it('a push whose endpoint is revoked meanwhile is refused and writes nothing, alone or in a group', async () => {
    const tenant = await createTenant(t.app);
    const admin = (await createKey(t.app, tenant, 'admin')).raw;
    const pusher = enrollingPusher(
      (options) => t.app.inject(options),
      (await createKey(t.app, tenant, 'fleet-push')).raw,
    );
    const body = (id: string, servers = 1) =>
      payload(id, [
        agent(
          'claude',
          Array.from({ length: servers }, (_, i) => stdioServer(`fs-${i}`)),
        ),
      ]);
    const blockers = ['b-0'];
    for (const id of ['alone', 'grouped', 'other-1', 'other-2', ...blockers])
      expect((await pusher(body(id))).statusCode).toBe(200);

    for (const [target, others] of [
      ['alone', []],
      ['grouped', ['other-1', 'other-2']],
    ] as const) {
      const held = await holdEnrollments(tenant, [target]);
      let pushes: Promise<Response>[];
      if (others.length === 0) {
        pushes = [pusher(body(target, 2))];
      } else {
        // A sync waits for another lock in the tenant's lane (syncs this small open no second one); the target
        // and the others queue behind it and, once the lane frees, go together as one group.
        const lanes = await holdEnrollments(tenant, blockers);
        const blocked = blockers.map((id) => pusher(body(id, 2)));
        await untilWaiting(1);
        pushes = [target, ...others].map((id) => pusher(body(id, 2)));
        await new Promise((resolve) => setTimeout(resolve, 50));
        await lanes.query('COMMIT');
        await lanes.end();
        expect((await Promise.all(blocked)).map((r) => r.statusCode)).toEqual(blockers.map(() => 200));
      }
      await untilWaiting(1);
      // What a revoke writes, committed while the pushes wait for the lock.
      await held.query(
        `UPDATE fleet_enrollments SET state = 'revoked', changed_at = now(), changed_by = 'test'
          WHERE tenant_id = $1 AND source_id = $2`,
        [tenant, target],
      );
      await held.query('COMMIT');
      await held.end();
      const [refused, ...landed] = await Promise.all(pushes);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.details).toMatchObject({ reason: 'revoked' });
      expect(landed.map((r) => r.statusCode)).toEqual(others.map(() => 200));
      if (others.length) expect(await commitsOf(tenant, [...others])).toBe(1);
      const servers = (await t.db.dataSource.query(
        `SELECT a.source_id, count(s.*)::int AS n FROM fleet_agents a JOIN fleet_servers s ON s.agent_id = a.id
          WHERE a.tenant_id = $1 AND a.source_id = ANY($2) GROUP BY a.source_id ORDER BY a.source_id`,
        [tenant, [target, ...others]],
      )) as { source_id: string; n: number }[];
      // The revoked endpoint keeps the one server of its last accepted push; the others have their two.
      expect(Object.fromEntries(servers.map((r) => [r.source_id, r.n]))).toEqual({
        [target]: 1,
        ...Object.fromEntries(others.map((id) => [id, 2])),
      });
    }
    expect(t.errors()).toEqual([]);
    expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
  });

  it("small syncs wait for the tenant's lane in flight and share its next commit; a large one opens a lane", async () => {
    const tenant = await createTenant(t.app);
    const pusher = enrollingPusher(
      (options) => t.app.inject(options),
      (await createKey(t.app, tenant, 'fleet-push')).raw,
    );
    const small = (id: string) => payload(id, [agent('claude', [stdioServer('fs-0'), stdioServer('fs-1')])]);
    const ids = Array.from({ length: 8 }, (_, i) => `small-${i}`);
    for (const id of ['held', ...ids]) expect((await pusher(small(id))).statusCode).toBe(200);
    const held = await holdEnrollments(tenant, ['held']);
    const blocked = pusher(small('held'));
    await untilWaiting(1);
    const queued = ids.map((id) => pusher(small(id)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A large inventory (over 200 rows) does not wait behind them: it opens a lane of its own and lands while the
    // first lane is still held (that lane takes the queued small syncs with it, or after it).
    const large = payload(
      'large',
      Array.from({ length: 20 }, (_, a) =>
        agent(
          `a${a}`,
          Array.from({ length: 10 }, (_, s) => stdioServer(`fs-${s}`)),
        ),
      ),
    );
    expect((await pusher(large)).statusCode).toBe(200);
    await held.query('COMMIT');
    await held.end();
    expect((await blocked).statusCode).toBe(200);
    expect((await Promise.all(queued)).map((r) => r.statusCode)).toEqual(ids.map(() => 200));
    // The eight queued behind the one lane in flight share commits: one, or two if some queued after the large
    // one's lane took its group (with a lane each, as small syncs had before, at least four).
    const [{ commits }] = (await t.db.dataSource.query(
      `SELECT count(DISTINCT xmin::text)::int AS commits FROM audit_entries
        WHERE tenant_id = $1 AND event->>'type' = 'fleet.synced' AND event->>'resource_id' = ANY($2)
          AND event->'details'->>'updated' = '1'`,
      [tenant, ids],
    )) as { commits: number }[];
    expect(commits).toBeLessThanOrEqual(2);
    expect(t.errors()).toEqual([]);
  });

  it("in one group, each endpoint's absent fields keep its stored values and given ones replace them", async () => {
    const tenant = await createTenant(t.app);
    const pusher = enrollingPusher(
      (options) => t.app.inject(options),
      (await createKey(t.app, tenant, 'fleet-push')).raw,
    );
    const one = (id: string) => payload(id, [agent('claude', [stdioServer('fs')])]);
    const ids = Array.from({ length: 8 }, (_, i) => `fields-${i}`);
    const given = (id: string) => ({
      ...one(id),
      endpoint: { hostname: `${id}.corp`, os: 'linux' as const, owner: 'team-a', tags: ['b', 'a'] },
    });
    const absent = (id: string) => ({ source_id: id, agents: one(id).agents });
    const cleared = (id: string) => ({ ...absent(id), endpoint: { tags: [] } });
    for (const res of await Promise.all(ids.map((id) => pusher(given(id))))) expect(res.statusCode).toBe(200);
    // Concurrently (sharing commits): even endpoints send no endpoint fields, odd ones clear their tags.
    const again = await Promise.all(ids.map((id, i) => pusher(i % 2 ? cleared(id) : absent(id))));
    expect(again.map((r) => r.statusCode)).toEqual(ids.map(() => 200));
    const rows = (await t.db.dataSource.query(
      `SELECT source_id, hostname, owner, tags FROM fleet_endpoints
        WHERE tenant_id = $1 AND source_id = ANY($2) ORDER BY source_id`,
      [tenant, ids],
    )) as { source_id: string; hostname: string; owner: string; tags: string[] }[];
    expect(rows).toEqual(
      ids.map((id, i) => ({
        source_id: id,
        hostname: `${id}.corp`,
        owner: 'team-a',
        tags: i % 2 ? [] : ['a', 'b'],
      })),
    );
  });

  it('keyed syncs sharing a statement store each its own answer; their retries, grouped too, replay it', async () => {
    const tenant = await createTenant(t.app);
    const pusher = enrollingPusher(
      (options) => t.app.inject(options),
      (await createKey(t.app, tenant, 'fleet-push')).raw,
    );
    const ids = Array.from({ length: 8 }, (_, i) => `keyed-${i}`);
    const body = (id: string, agents: number) =>
      payload(
        id,
        Array.from({ length: agents }, (_, a) => agent(`a${a}`, [stdioServer('fs')])),
      );
    const send = () =>
      Promise.all(ids.map((id, i) => pusher(body(id, 1 + (i % 3)), { 'idempotency-key': `k-${id}` })));
    const first = await send();
    expect(first.map((r) => r.statusCode)).toEqual(ids.map(() => 200));
    const answers = first.map((r) => {
      const { endpoint_credential: credential, ...answer } = r.json() as Record<string, unknown>;
      expect(credential).toEqual(expect.stringMatching(/^abom_/));
      return answer;
    });
    expect(answers).toEqual(
      ids.map((id, i) => ({ source_id: id, synced: 1 + (i % 3), new: 1 + (i % 3), updated: 0 })),
    );
    const again = await send();
    expect(again.map((r) => r.json())).toEqual(answers.map((a) => ({ ...a, idempotent_replay: true })));
    const [{ keys }] = (await t.db.dataSource.query(
      `SELECT count(*)::int AS keys FROM idempotency_keys WHERE tenant_id = $1`,
      [tenant],
    )) as { keys: number }[];
    expect(keys).toBe(ids.length);
  });
});
