import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, payload, remoteServer } from '../helpers/fleet.js';

/** Issue 16 item 4, control-plane side: approval of discovered upstreams and the tenant auto-approve list. */
describe('discovered upstreams: approval state and auto-approve', () => {
  let t: TestApp;
  let tenant: string;
  let admin: string;
  let viewer: string;
  let gateway: string;

  const discovered = async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(gateway),
    });
    expect(res.statusCode).toBe(200);
    return Object.fromEntries(
      (res.json().upstreams as Array<{ name: string; approval: string }>).map((u) => [u.name, u.approval]),
    );
  };
  const put = (key: string, url: string, body: object) =>
    t.app.inject({ method: 'PUT', url, headers: bearer(key), payload: body });

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    viewer = (await createKey(t.app, tenant, 'viewer')).raw;
    gateway = (await createKey(t.app, tenant, 'gateway')).raw;
    const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: bearer(push),
      payload: payload('laptop', [
        agent(
          'cursor',
          [
            remoteServer('jira', 'https://jira.corp.example/mcp'),
            remoteServer('metrics', 'http://127.0.0.1:7000/metrics'),
            remoteServer('wiki', 'https://wiki.example.com/mcp'),
          ],
          'cursor',
        ),
      ]),
    });
    expect(res.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('every discovered upstream starts pending; the seed fields are unchanged', async () => {
    expect(await discovered()).toEqual({ jira: 'pending', metrics: 'pending', wiki: 'pending' });
  });

  it('an admin approves and blocks, with who, when and why, and each decision is audited', async () => {
    const approved = await put(admin, '/v1/gateway/upstreams/wiki/approval', { state: 'approved' });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ name: 'wiki', state: 'approved', decided_by: 'key:admin-key' });
    const blocked = await put(admin, '/v1/gateway/upstreams/metrics/approval', {
      state: 'blocked',
      reason: `loopback, token=hunter2hunter2, glpat-${'x'.repeat(20)}`,
    });
    expect(blocked.json()).toMatchObject({
      state: 'blocked',
      reason: 'loopback, token=[redacted:password_assignment], [redacted:gitlab_token]',
    });
    expect(await discovered()).toEqual({ jira: 'pending', metrics: 'blocked', wiki: 'approved' });
    const audit = (await t.db.dataSource.query(
      `SELECT event FROM audit_entries WHERE tenant_id = $1 AND type = 'gateway.upstream_approval_set' ORDER BY seq`,
      [tenant],
    )) as Array<{ event: { resource_id: string; details: { state: string }; actor: { subject: string } } }>;
    expect(audit.map((a) => [a.event.resource_id, a.event.details.state, a.event.actor.subject])).toEqual([
      ['wiki', 'approved', 'key:admin-key'],
      ['metrics', 'blocked', 'key:admin-key'],
    ]);
    const read = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/metrics/approval',
      headers: bearer(admin),
    });
    expect(read.json()).toMatchObject({ state: 'blocked', decided_by: 'key:admin-key' });
  });

  it('the auto-approve list approves matching hosts, never over an explicit block', async () => {
    const res = await put(admin, '/v1/gateway/upstreams/auto-approve', {
      hosts: ['*.corp.example', '127.0.0.1'],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ hosts: ['*.corp.example', '127.0.0.1'], updated_by: 'key:admin-key' });
    expect(await discovered()).toEqual({ jira: 'approved', metrics: 'blocked', wiki: 'approved' });
    const jira = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/jira/approval',
      headers: bearer(admin),
    });
    expect(jira.json()).toMatchObject({ state: 'approved', decided_by: 'auto-approve:*.corp.example' });
    const audited = await t.db.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND type = 'gateway.auto_approve_set'`,
      [tenant],
    );
    expect(audited[0].n).toBe(1);
  });

  it('an IP or host written another way is approved exactly as its canonical form is', async () => {
    const other = await createTenant(t.app);
    const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
    const otherGateway = (await createKey(t.app, other, 'gateway')).raw;
    const push = (await createKey(t.app, other, 'fleet-push')).raw;
    const servers = [
      remoteServer('mapped', 'http://[::ffff:7f00:1]:7000/mcp'),
      remoteServer('hex', 'http://0xa.0.0.1/mcp'),
      remoteServer('integer', 'http://167772161/mcp'),
      remoteServer('fqdn', 'https://WIKI.example.com./mcp'),
      remoteServer('octal', 'http://010.0.0.1/mcp'),
      remoteServer('numeric', 'http://10.0.0.2/mcp'),
    ];
    const sync = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: bearer(push),
      payload: payload('desk', [agent('cursor', servers, 'cursor')]),
    });
    expect(sync.statusCode).toBe(200);
    expect(
      (await put(otherAdmin, '/v1/gateway/upstreams/auto-approve', { hosts: ['*.0.0.2'] })).json(),
    ).toMatchObject({ error: { message: expect.stringContaining('hosts.0') } });
    const res = await put(otherAdmin, '/v1/gateway/upstreams/auto-approve', {
      hosts: ['0x7f.1', '[::FFFF:10.0.0.1]', 'wiki.example.com.'],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().hosts).toEqual(['10.0.0.1', '127.0.0.1', 'wiki.example.com']);
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(otherGateway),
    });
    expect(
      Object.fromEntries(
        (list.json().upstreams as Array<{ name: string; approval: string }>).map((u) => [u.name, u.approval]),
      ),
    ).toEqual({
      mapped: 'approved',
      hex: 'approved',
      integer: 'approved',
      fqdn: 'approved',
      octal: 'pending', // 010.0.0.1 is 8.0.0.1, as the gateway's HTTP client reads it
      numeric: 'pending',
    });
  });

  it('wrong role: viewers and gateways may read discovery but not decide', async () => {
    for (const key of [viewer, gateway]) {
      expect((await put(key, '/v1/gateway/upstreams/jira/approval', { state: 'approved' })).statusCode).toBe(
        403,
      );
      expect((await put(key, '/v1/gateway/upstreams/auto-approve', { hosts: [] })).statusCode).toBe(403);
    }
  });

  it('bad input: unknown state, unknown upstream, bad host pattern, long reason', async () => {
    const state = await put(admin, '/v1/gateway/upstreams/jira/approval', { state: 'yes' });
    expect(state.statusCode).toBe(400);
    expect(state.json().error.message).toContain('state');
    expect((await put(admin, '/v1/gateway/upstreams/nope/approval', { state: 'approved' })).statusCode).toBe(
      404,
    );
    const host = await put(admin, '/v1/gateway/upstreams/auto-approve', {
      hosts: ['ok.example', 'http://x/'],
    });
    expect(host.statusCode).toBe(400);
    expect(host.json().error.message).toContain('hosts.1');
    const long = await put(admin, '/v1/gateway/upstreams/jira/approval', {
      state: 'approved',
      reason: 'x'.repeat(501),
    });
    expect(long.statusCode).toBe(400);
  });

  it('cross-tenant: another tenant cannot decide on (or learn of) this tenant upstreams', async () => {
    const other = await createTenant(t.app);
    const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
    const res = await put(otherAdmin, '/v1/gateway/upstreams/jira/approval', { state: 'approved' });
    expect(res.statusCode).toBe(404);
    expect((await discovered()).jira).toBe('approved');
  });
});
