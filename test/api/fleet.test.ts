import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'light-my-request';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { verifyChain } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, enrollingPusher, fleetCounts, payload, remoteServer, stdioServer } from '../helpers/fleet.js';

describe('fleet sync and inventory', () => {
  let t: TestApp;
  let push: string;
  let viewer: string;
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    viewer = (await createKey(t.app, tenant, 'viewer')).raw;
  });
  afterAll(() => t.close());

  let pusher: ReturnType<typeof enrollingPusher<Response>> | undefined;
  const sync = (body: object, headers: Record<string, string> = {}) => {
    pusher ??= enrollingPusher((options) => t.app.inject(options), push);
    return pusher(body, headers);
  };
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(viewer) });

  const laptop = payload('laptop-1', [
    agent('claude-desktop', [
      stdioServer('filesystem', { declared_tools: ['read_file'] }),
      remoteServer('github', 'https://mcp.github.example.com/mcp', {
        auth_mode: 'headers',
        credential_header_names: ['Authorization'],
        introspection: { status: 'ok', tools: ['create_issue', 'search'] },
      }),
    ]),
    agent(
      'cursor',
      [stdioServer('git', { auth_mode: 'env', credential_env_names: ['GITHUB_TOKEN'] })],
      'cursor',
    ),
  ]);

  it('a first sync creates the endpoint, its agents and servers', async () => {
    const res = await sync(laptop);
    expect({ status: res.statusCode, errors: t.errors() }).toEqual({ status: 200, errors: [] });
    expect(res.json()).toEqual({
      source_id: 'laptop-1',
      synced: 2,
      new: 2,
      updated: 0,
      endpoint_credential: expect.stringMatching(/^abom_/),
    });
  });

  it('a repeated sync updates in place: same ids, first_seen kept, last_seen moved', async () => {
    const before = (await get('/v1/fleet?source_id=laptop-1')).json().items;
    const res = await sync(laptop);
    expect(res.json()).toEqual({ source_id: 'laptop-1', synced: 2, new: 0, updated: 2 });
    const after = (await get('/v1/fleet?source_id=laptop-1')).json().items;
    expect(after.map((a: { id: string }) => a.id).sort()).toEqual(
      before.map((a: { id: string }) => a.id).sort(),
    );
    for (const a of after) {
      const b = before.find((x: { id: string }) => x.id === a.id);
      expect(a.first_seen_at).toBe(b.first_seen_at);
      expect(new Date(a.last_seen_at).getTime()).toBeGreaterThanOrEqual(new Date(b.last_seen_at).getTime());
    }
  });

  it('GET /v1/fleet/{id} shows servers with transport, tools, auth mode and credential names', async () => {
    const list = (await get('/v1/fleet?client=claude-desktop')).json().items;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      name: 'claude-desktop',
      server_count: 2,
      endpoint: { hostname: 'laptop-1' },
    });
    const detail = (await get(`/v1/fleet/${list[0].id}`)).json();
    const github = detail.servers.find((s: { name: string }) => s.name === 'github');
    expect(github).toMatchObject({
      transport: 'https',
      url: 'https://mcp.github.example.com/mcp',
      auth_mode: 'headers',
      credential_header_names: ['Authorization'],
      tools: ['create_issue', 'search'],
      last_seen_at: expect.any(String),
    });
    const fs = detail.servers.find((s: { name: string }) => s.name === 'filesystem');
    expect(fs).toMatchObject({ transport: 'stdio', command: 'npx', tools: ['read_file'] });
  });

  it('the same agent name on two endpoints is two agents', async () => {
    const res = await sync(payload('laptop-2', [agent('claude-desktop', [stdioServer('filesystem')])]));
    expect(res.json()).toMatchObject({ new: 1 });
    expect((await get('/v1/fleet?client=claude-desktop')).json().items).toHaveLength(2);
  });

  it("an endpoint's sync is its whole inventory: dropped servers and agents disappear", async () => {
    await sync(
      payload('laptop-3', [agent('a', [stdioServer('x'), stdioServer('y')]), agent('b', [stdioServer('z')])]),
    );
    await sync(payload('laptop-3', [agent('a', [stdioServer('x')])]));
    const items = (await get('/v1/fleet?source_id=laptop-3')).json().items;
    expect(items.map((a: { name: string }) => a.name)).toEqual(['a']);
    expect(items[0].server_count).toBe(1);
  });

  it('credentials in a URL are stripped before storage and recorded as auth mode "url"', async () => {
    await sync(
      payload('laptop-4', [agent('a', [remoteServer('jira', 'https://bob:hunter2@jira.example.com/mcp')])]),
    );
    const stored = await t.db.dataSource.query(
      `SELECT url, auth_mode FROM fleet_servers WHERE name = 'jira'`,
    );
    expect(stored).toEqual([{ url: 'https://jira.example.com/mcp', auth_mode: 'url' }]);
    const everything = JSON.stringify(await t.db.dataSource.query('SELECT * FROM fleet_servers'));
    expect(everything).not.toContain('hunter2');
  });

  it('Idempotency-Key: a replay returns the first response and changes nothing', async () => {
    const body = payload('laptop-5', [agent('a', [stdioServer('x')])]);
    const first = await sync(body, { 'idempotency-key': 'run-1' });
    const synced = await t.db.dataSource.query(
      `SELECT last_synced_at FROM fleet_endpoints WHERE source_id = 'laptop-5'`,
    );
    const again = await sync(body, { 'idempotency-key': 'run-1' });
    expect(again.statusCode).toBe(200);
    // The replay is the stored answer: the enrolling push's credential is shown once and never stored.
    const { endpoint_credential: _shownOnce, ...stored } = first.json() as { endpoint_credential?: string };
    expect(again.json()).toEqual({ ...stored, idempotent_replay: true });
    expect(
      await t.db.dataSource.query(`SELECT last_synced_at FROM fleet_endpoints WHERE source_id = 'laptop-5'`),
    ).toEqual(synced);
  });

  it('Idempotency-Key reused with another body is a 409 and writes nothing', async () => {
    await sync(payload('laptop-6', [agent('a', [stdioServer('x')])]), { 'idempotency-key': 'run-2' });
    const counts = await fleetCounts((sql) => t.db.dataSource.query(sql));
    const res = await sync(payload('laptop-6', [agent('b', [stdioServer('x')])]), {
      'idempotency-key': 'run-2',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    expect(await fleetCounts((sql) => t.db.dataSource.query(sql))).toBe(counts);
  });

  it('concurrent retries with one key: one sync, the rest are replays', async () => {
    const body = payload('laptop-7', [agent('a', [stdioServer('x')])]);
    const results = await Promise.all([1, 2, 3].map(() => sync(body, { 'idempotency-key': 'run-3' })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.json().idempotent_replay).length).toBe(2);
    expect(
      await t.db.dataSource.query(`SELECT count(*)::int AS n FROM fleet_agents WHERE source_id = 'laptop-7'`),
    ).toEqual([{ n: 1 }]);
  });

  it('GET /v1/fleet/stats counts endpoints, agents, servers and breakdowns', async () => {
    const stats = (await get('/v1/fleet/stats')).json();
    expect(stats).toMatchObject({ endpoints: 7, agents: 8, by_client: { 'claude-desktop': 7, cursor: 1 } });
    expect(stats.by_transport.stdio).toBeGreaterThan(0);
    expect(stats.servers_with_credentials).toBe(2);
    expect(stats.last_synced_at).toEqual(expect.any(String));
  });

  it('GET /v1/fleet/servers groups one server across endpoints, with sources and unions', async () => {
    const res = await get('/v1/fleet/servers?q=filesystem');
    expect(res.statusCode).toBe(200);
    const [fs] = res.json().items;
    expect(fs).toMatchObject({ name: 'filesystem', transport: 'stdio', agent_count: 2, endpoint_count: 2 });
    expect(fs.declared_tools).toEqual(['read_file']);
    expect(fs.source_agents.map((s: { source_id: string }) => s.source_id)).toEqual(['laptop-1', 'laptop-2']);
    const remote = (await get('/v1/fleet/servers?transport=https')).json().items;
    expect(remote.map((s: { name: string }) => s.name)).toEqual(['github', 'jira']);
    expect(remote[0]).toMatchObject({
      tools: ['create_issue', 'search'],
      credential_header_names: ['Authorization'],
    });
  });

  it('paginates /v1/fleet and /v1/fleet/servers with cursors: no duplicates, no gaps', async () => {
    for (const [url, total] of [
      ['/v1/fleet', 8],
      ['/v1/fleet/servers', 5],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(`${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.statusCode).toBe(200);
        seen.push(
          ...page
            .json()
            .items.map((i: { id?: string; name: string; url?: string }) => i.id ?? `${i.name}@${i.url}`),
        );
        cursor = page.json().next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
    }
  });

  it('search treats % and _ literally', async () => {
    expect((await get('/v1/fleet?q=%25')).json().items).toEqual([]);
    expect((await get('/v1/fleet/servers?q=_')).json().items).toEqual([]);
  });
});

describe('fleet quota', () => {
  it('over the per-tenant agent quota: 429 QUOTA_EXCEEDED and nothing written; existing agents still sync', async () => {
    const t = await startTestApp({ env: { AGENT_BOM_FLEET_MAX_AGENTS_PER_TENANT: '3' } });
    try {
      const push = (await createKey(t.app, await createTenant(t.app), 'fleet-push')).raw;
      const sync = enrollingPusher((options) => t.app.inject(options), push);
      const full = payload('laptop-1', [agent('a', []), agent('b', []), agent('c', [])]);
      expect((await sync(full)).statusCode).toBe(200);
      const counts = await fleetCounts((sql) => t.db.dataSource.query(sql));
      const res = await sync(payload('laptop-2', [agent('a', [])]));
      expect(res.statusCode).toBe(429);
      expect(res.json().error).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        details: { quota: 'fleet_agents', limit: 3 },
      });
      expect(await fleetCounts((sql) => t.db.dataSource.query(sql))).toBe(counts);
      expect((await sync(full)).statusCode).toBe(200); // at the quota, re-syncing what exists is fine
    } finally {
      await t.close();
    }
  });

  it('concurrent enrolling pushes racing the quota: no overshoot, the count matches the rows, the chain verifies', async () => {
    const t = await startTestApp({ env: { AGENT_BOM_FLEET_MAX_AGENTS_PER_TENANT: '10' } });
    try {
      const tenant = await createTenant(t.app);
      const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
      const admin = (await createKey(t.app, tenant, 'admin')).raw;
      const sync = enrollingPusher((options) => t.app.inject(options), push);
      const two = (id: string) => payload(id, [agent('a', [stdioServer('fs')]), agent('b', [])]);
      expect((await sync(two('race-0'))).statusCode).toBe(200);
      // 2 agents already, 8 left: of 8 new endpoints of 2 agents each, exactly 4 fit; re-syncs of race-0 race them.
      const responses = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) => sync(two(`race-${i + 1}`))),
        sync(two('race-0')),
        sync(two('race-0')),
      ]);
      const statuses = responses.map((r) => r.statusCode);
      expect(t.errors()).toEqual([]);
      expect(statuses.filter((s) => s === 200)).toHaveLength(6);
      expect(statuses.filter((s) => s === 429)).toHaveLength(4);
      const [usage] = (await t.db.dataSource.query(
        `SELECT u.agents, (SELECT count(*)::int FROM fleet_agents a WHERE a.tenant_id = u.tenant_id) AS rows
           FROM fleet_usage u WHERE u.tenant_id = $1`,
        [tenant],
      )) as { agents: number; rows: number }[];
      expect(usage).toEqual({ agents: 10, rows: 10 });
      expect(await verifyChain(t, admin)).toMatchObject({ ok: true });
    } finally {
      await t.close();
    }
  });
});

describe('fleet inventory warnings', () => {
  it('an endpoint that could not read everything says so, and the next clean sync clears it', async () => {
    const t = await startTestApp();
    try {
      const tenant = await createTenant(t.app);
      const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
      const viewer = (await createKey(t.app, tenant, 'viewer')).raw;
      const sync = enrollingPusher((options) => t.app.inject(options), push);
      const warning = {
        path: '/home/u/.cursor/mcp.json',
        client: 'cursor',
        message: 'invalid JSON at line 3',
      };
      expect((await sync({ ...payload('l-1', [agent('a', [])]), warnings: [warning] })).statusCode).toBe(200);
      const listed = async () =>
        (await t.app.inject({ method: 'GET', url: '/v1/fleet', headers: bearer(viewer) })).json().items[0]
          .endpoint;
      expect((await listed()).warnings).toEqual([warning]);
      await sync(payload('l-1', [agent('a', [])]));
      expect((await listed()).warnings).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('fleet syncs are audited in the same transaction', () => {
  it('a sync leaves a fleet.synced entry; when the audit write fails, nothing of the sync is written', async () => {
    const t = await startTestApp();
    try {
      const tenant = await createTenant(t.app);
      const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
      const analyst = (await createKey(t.app, tenant, 'analyst')).raw;
      const sync = enrollingPusher((options) => t.app.inject(options), push);
      expect((await sync(payload('audited', [agent('a', [stdioServer('x')])]))).statusCode).toBe(200);
      const entries = (
        await t.app.inject({ method: 'GET', url: '/v1/audit?type=fleet.synced', headers: bearer(analyst) })
      ).json();
      expect(JSON.stringify(entries)).toContain('"fleet.synced"');
      expect(JSON.stringify(entries)).toContain('audited');

      await t.db.dataSource.query(`
        CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected audit failure'; END $$`);
      await t.db.dataSource.query(
        'CREATE TRIGGER fail_audit BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION fail_audit()',
      );
      const counts = await fleetCounts((sql) => t.db.dataSource.query(sql));
      const res = await sync(
        payload('doomed', [agent('a', [remoteServer('jira', 'https://jira.example.com/mcp')])]),
      );
      expect(res.statusCode).toBe(500);
      expect(await fleetCounts((sql) => t.db.dataSource.query(sql))).toBe(counts);
    } finally {
      await t.close();
    }
  });
});
