import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, fleetCounts, payload, remoteServer, stdioServer } from '../helpers/fleet.js';

describe('fleet: wrong role, cross-tenant and bad input', () => {
  let t: TestApp;
  const a: Partial<Record<Role, string>> = {};
  const b: Partial<Record<Role, string>> = {};
  let agentOfA: string;
  let counts: string;
  const snapshot = () => fleetCounts((sql) => t.db.dataSource.query(sql));

  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_MAX_BODY_BYTES: String(4 * 1024 * 1024) } });
    const ta = await createTenant(t.app);
    const tb = await createTenant(t.app);
    for (const role of ['admin', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[]) {
      a[role] = (await createKey(t.app, ta, role)).raw;
      b[role] = (await createKey(t.app, tb, role)).raw;
    }
    await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: bearer(a['fleet-push']!),
      payload: payload('shared-id', [
        agent('claude-desktop', [remoteServer('jira', 'https://jira.a.example/mcp')]),
      ]),
    });
    const list = await t.app.inject({ method: 'GET', url: '/v1/fleet', headers: bearer(a.viewer!) });
    agentOfA = list.json().items[0].id;
  });
  beforeEach(async () => {
    counts = await snapshot();
  });
  afterAll(() => t.close());

  describe('wrong role', () => {
    it.each([
      ['fleet-push', 'GET', '/v1/fleet'],
      ['fleet-push', 'GET', '/v1/fleet/stats'],
      ['fleet-push', 'GET', '/v1/fleet/servers'],
      ['fleet-push', 'GET', '/v1/fleet/:id'],
      ['fleet-push', 'GET', '/v1/gateway/upstreams/discovered'],
      ['proxy', 'GET', '/v1/fleet'],
      ['proxy', 'POST', '/v1/fleet/sync'],
      ['gateway', 'GET', '/v1/fleet'],
      ['gateway', 'POST', '/v1/fleet/sync'],
      ['viewer', 'POST', '/v1/fleet/sync'],
    ] as const)('%s: %s %s → 403, nothing written', async (role, method, url) => {
      const res = await t.app.inject({
        method,
        url: url.replace(':id', agentOfA),
        headers: bearer(a[role]!),
        ...(method === 'POST' ? { payload: payload('x', []) } : {}),
      });
      expect(res.statusCode).toBe(403);
      expect(await snapshot()).toBe(counts);
    });

    it('a fleet-push key on a laptop can push but never read back', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/fleet/sync',
        headers: bearer(a['fleet-push']!),
        payload: payload('laptop', []),
      });
      expect(res.statusCode).toBe(200);
      const read = await t.app.inject({ method: 'GET', url: '/v1/fleet', headers: bearer(a['fleet-push']!) });
      expect(read.statusCode).toBe(403);
    });
  });

  describe('cross-tenant', () => {
    it("another tenant's agent id is a 404", async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/fleet/${agentOfA}`,
        headers: bearer(b.viewer!),
      });
      expect(res.statusCode).toBe(404);
    });

    it("the same source_id in another tenant is another endpoint: A's inventory is untouched", async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/fleet/sync',
        headers: bearer(b['fleet-push']!),
        payload: payload('shared-id', []),
      });
      expect(res.json()).toMatchObject({ synced: 0 });
      const mine = await t.app.inject({
        method: 'GET',
        url: `/v1/fleet/${agentOfA}`,
        headers: bearer(a.viewer!),
      });
      expect(mine.statusCode).toBe(200);
      expect(mine.json().servers).toHaveLength(1);
    });

    it("lists, stats, servers and discovery show only the caller's tenant", async () => {
      for (const url of ['/v1/fleet', '/v1/fleet/servers', '/v1/gateway/upstreams/discovered']) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(b.viewer!) });
        expect(res.body).not.toContain('jira.a.example');
      }
      const stats = await t.app.inject({ method: 'GET', url: '/v1/fleet/stats', headers: bearer(b.viewer!) });
      expect(stats.json().agents).toBe(0);
    });

    it('the same Idempotency-Key in two tenants does not collide', async () => {
      const send = (key: string, body: object) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/fleet/sync',
          headers: { ...bearer(key), 'idempotency-key': 'same-key' },
          payload: body,
        });
      expect((await send(a['fleet-push']!, payload('k-a', []))).statusCode).toBe(200);
      const other = await send(b['fleet-push']!, payload('k-b', [agent('x', [])]));
      expect(other.statusCode).toBe(200);
      expect(other.json().idempotent_replay).toBeUndefined();
    });
  });

  describe('bad input: 4xx naming the field, nothing written', () => {
    // Hostile bodies break the contract on purpose, so the helpers are loosely typed here.
    const many = (n: number, make: (i: number) => unknown): never[] =>
      Array.from({ length: n }, (_, i) => make(i) as never);
    const server: object = stdioServer('x');
    const anAgent = agent as unknown as (name: string, servers: unknown[]) => object;
    it.each([
      ['missing source_id', { agents: [] }, 400, 'source_id'],
      ['hostile source_id', { source_id: '../../etc/passwd', agents: [] }, 400, 'source_id'],
      ['agents not an array', { source_id: 's', agents: {} }, 400, 'agents'],
      ['too many agents', { source_id: 's', agents: many(501, (i) => anAgent(`a${i}`, [])) }, 400, 'agents'],
      [
        'too many servers',
        {
          source_id: 's',
          agents: [
            anAgent(
              'a',
              many(201, (i) => stdioServer(`s${i}`)),
            ),
          ],
        },
        400,
        'agents.0.servers',
      ],
      [
        'unknown client',
        { source_id: 's', agents: [{ ...anAgent('a', []), client: 'netscape' }] },
        400,
        'agents.0.client',
      ],
      [
        'unknown transport',
        { source_id: 's', agents: [anAgent('a', [{ ...server, transport: 'carrier-pigeon' }])] },
        400,
        'agents.0.servers.0.transport',
      ],
      [
        'unknown nested field',
        { source_id: 's', agents: [anAgent('a', [{ ...server, env: { TOKEN: 'secret-value' } }])] },
        400,
        'agents.0.servers.0.env',
      ],
      [
        'wrong type',
        { source_id: 's', agents: [anAgent('a', [{ ...server, args: 'rm -rf /' }])] },
        400,
        'agents.0.servers.0.args',
      ],
      [
        'too many tools',
        {
          source_id: 's',
          agents: [anAgent('a', [{ ...server, declared_tools: many(1001, (i) => `t${i}`) }])],
        },
        400,
        'declared_tools',
      ],
      ['over-long name', { source_id: 's', agents: [anAgent('a'.repeat(201), [])] }, 400, 'agents.0.name'],
      [
        'duplicate agent',
        { source_id: 's', agents: [anAgent('a', []), anAgent('a', [])] },
        400,
        'agents.1.name',
      ],
      [
        'duplicate server',
        { source_id: 's', agents: [anAgent('a', [server, server])] },
        400,
        'agents.0.servers.1.name',
      ],
      [
        'remote without url',
        { source_id: 's', agents: [anAgent('a', [{ ...server, transport: 'sse' }])] },
        400,
        'agents.0.servers.0.url',
      ],
      [
        'stdio with url',
        { source_id: 's', agents: [anAgent('a', [{ ...server, url: 'https://x.example' }])] },
        400,
        'agents.0.servers.0.url',
      ],
      [
        'javascript: url',
        { source_id: 's', agents: [anAgent('a', [remoteServer('j', 'javascript:alert(1)')])] },
        400,
        'url',
      ],
      [
        'unparseable url',
        { source_id: 's', agents: [anAgent('a', [remoteServer('j', 'https://exa mple.com:99999/')])] },
        400,
        'url',
      ],
      [
        'bad introspection status',
        { source_id: 's', agents: [anAgent('a', [{ ...server, introspection: { status: 'great' } }])] },
        400,
        'agents.0.servers.0.introspection.status',
      ],
    ])('%s → %s', async (_label, body, status, field) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/fleet/sync',
        headers: bearer(a['fleet-push']!),
        payload: body as object,
      });
      expect(res.statusCode).toBe(status);
      expect(res.json().error.message).toContain(field);
      expect(res.body).not.toContain('secret-value');
      expect(await snapshot()).toBe(counts);
    });

    const raw = (body: string | Buffer, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/fleet/sync',
        headers: { ...bearer(a['fleet-push']!), 'content-type': 'application/json', ...headers },
        payload: body,
      });

    it('a 10 MB body → 413', async () => {
      const body = JSON.stringify({ source_id: 's', agents: [], pad: 'x'.repeat(10 * 1024 * 1024) });
      const res = await raw(body);
      expect(res.statusCode).toBe(413);
      expect(await snapshot()).toBe(counts);
    });

    it('a million empty agents in 4 MiB → a quick 400, not an exhausted heap', async () => {
      const started = Date.now();
      const res = await raw(`{"source_id":"s","agents":[${new Array(1_000_000).fill('{}').join(',')}]}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('agents has more than');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await snapshot()).toBe(counts);
    });

    it('deep nesting → 400', async () => {
      const res = await raw(`{"source_id":"s","agents":${'['.repeat(100)}${']'.repeat(100)}}`);
      expect(res.statusCode).toBe(400);
    });

    it('non-UTF-8 bytes → 400', async () => {
      const res = await raw(
        Buffer.concat([
          Buffer.from('{"source_id":"s","agents":[{"name":"'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('","client":"cursor","servers":[]}]}'),
        ]),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('UTF-8');
      expect(await snapshot()).toBe(counts);
    });

    it('a hostile Idempotency-Key → 400 naming it', async () => {
      const res = await raw(JSON.stringify(payload('s', [])), { 'idempotency-key': 'a b\tc' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('Idempotency-Key');
    });

    it.each([
      ['/v1/fleet?limit=0', 'limit'],
      ['/v1/fleet?cursor=bm9wZQ', 'cursor'],
      ['/v1/fleet?client=netscape', 'client'],
      ['/v1/fleet?nope=1', 'nope'],
      ['/v1/fleet/servers?transport=ftp', 'transport'],
      ['/v1/fleet/not-a-uuid', 'id'],
    ])('GET %s → 400 naming %s', async (url, field) => {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(a.viewer!) });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain(field);
    });
  });
});
