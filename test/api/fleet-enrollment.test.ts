import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, payload, remoteServer, stdioServer } from '../helpers/fleet.js';

/**
 * Issue 10, finding 1: a fleet-push key could rewrite any endpoint of its tenant, and fake endpoints could flip a
 * discovered upstream's transport. Endpoint enrollment binds a source_id to its own credential; the transport of a
 * discovered upstream is fixed by its first report.
 */
describe('fleet: endpoint enrollment and the discovery rule', () => {
  let t: TestApp;
  let tenant: string;
  let shared: string;
  let admin: string;
  let viewer: string;
  let laptop: string;

  const sync = (key: string, body: object) =>
    t.app.inject({ method: 'POST', url: '/v1/fleet/sync', headers: bearer(key), payload: body });
  const inventoryOf = async (sourceId: string) =>
    (
      await t.app.inject({ method: 'GET', url: `/v1/fleet?source_id=${sourceId}`, headers: bearer(viewer) })
    ).json().items.length as number;
  const auditTypes = async () =>
    (
      (await t.db.dataSource.query(
        `SELECT type, event FROM audit_entries WHERE tenant_id = $1 ORDER BY seq`,
        [tenant],
      )) as Array<{ type: string; event: { resource_id?: string; details?: Record<string, unknown> } }>
    ).map((r) => `${r.type}:${r.event.resource_id ?? ''}:${String(r.event.details?.reason ?? '')}`);

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    shared = (await createKey(t.app, tenant, 'fleet-push')).raw;
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    viewer = (await createKey(t.app, tenant, 'viewer')).raw;
  });
  afterAll(() => t.close());

  it('the first push with a fleet-push key enrolls the endpoint and returns its credential once', async () => {
    const res = await sync(
      shared,
      payload('laptop-a', [
        agent('claude-desktop', [
          stdioServer('filesystem'),
          remoteServer('jira', 'https://jira.example/sse'),
        ]),
      ]),
    );
    expect(res.statusCode).toBe(200);
    laptop = res.json().endpoint_credential;
    expect(laptop).toMatch(/^abom_[A-Za-z0-9_-]{43}$/);
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(laptop) });
    expect(me.json()).toMatchObject({ role: 'fleet-push' });
    expect(await auditTypes()).toContain('fleet.endpoint_enrolled:laptop-a:');
  });

  it('reproduction: the shared key can no longer erase an enrolled laptop; the refusal is audited', async () => {
    const res = await sync(shared, { source_id: 'laptop-a', agents: [] });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'enrolled' } });
    expect(await inventoryOf('laptop-a')).toBe(1);
    expect(await auditTypes()).toContain('fleet.push_refused:laptop-a:enrolled');
  });

  it('the endpoint credential pushes for its own source_id, and gets no new credential', async () => {
    const res = await sync(
      laptop,
      payload('laptop-a', [agent('claude-desktop', [stdioServer('filesystem')])]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().endpoint_credential).toBeUndefined();
  });

  it('the endpoint credential cannot push for (or enroll) another source_id', async () => {
    const res = await sync(laptop, payload('laptop-b', []));
    expect(res.statusCode).toBe(403);
    expect(res.json().error.details).toMatchObject({ reason: 'other_endpoint' });
    expect(await auditTypes()).toContain('fleet.push_refused:laptop-b:other_endpoint');
    const enrolled = await t.app.inject({
      method: 'GET',
      url: '/v1/fleet/endpoints',
      headers: bearer(admin),
    });
    expect(enrolled.json().map((e: { source_id: string }) => e.source_id)).toEqual(['laptop-a']);
  });

  it('the discovery rule: fake endpoints cannot flip the transport of an upstream others report', async () => {
    for (const fake of ['fake-1', 'fake-2', 'fake-3']) {
      const res = await sync(
        shared,
        payload(fake, [
          agent(
            'cursor',
            [remoteServer('jira', 'https://jira.example/sse', { transport: 'http' })],
            'cursor',
          ),
        ]),
      );
      expect(res.statusCode).toBe(200);
    }
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(viewer),
    });
    const jira = res.json().upstreams.find((u: { name: string }) => u.name === 'jira');
    // laptop-a no longer reports jira (its last push dropped it), yet the first report's transport stands.
    expect(jira).toMatchObject({ url: 'https://jira.example/sse', transport: 'sse', approval: 'pending' });
  });

  it('admins list endpoints; other roles may not', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/fleet/endpoints', headers: bearer(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()[0]).toMatchObject({
      source_id: 'fake-1',
      state: 'enrolled',
      enrolled_by: 'key:fleet-push-key',
    });
    for (const key of [viewer, shared, laptop]) {
      const refused = await t.app.inject({ method: 'GET', url: '/v1/fleet/endpoints', headers: bearer(key) });
      expect(refused.statusCode).toBe(403);
    }
  });

  it('revoke: the credential stops at once and the shared key cannot take the endpoint over', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/endpoints/laptop-a/revoke',
      headers: bearer(admin),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ source_id: 'laptop-a', state: 'revoked' });
    expect((await sync(laptop, payload('laptop-a', []))).statusCode).toBe(401);
    const takeover = await sync(shared, payload('laptop-a', []));
    expect(takeover.statusCode).toBe(403);
    expect(takeover.json().error.details).toMatchObject({ reason: 'revoked' });
    expect(await inventoryOf('laptop-a')).toBe(1);
  });

  it('re-enroll: the next push with a fleet-push key enrolls it again with a new credential', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/endpoints/laptop-a/reenroll',
      headers: bearer(admin),
    });
    expect(res.json()).toMatchObject({ state: 'reenroll' });
    const again = await sync(shared, payload('laptop-a', [agent('claude-desktop', [])]));
    expect(again.statusCode).toBe(200);
    const fresh = again.json().endpoint_credential;
    expect(fresh).toMatch(/^abom_/);
    expect(fresh).not.toBe(laptop);
    expect((await sync(fresh, payload('laptop-a', []))).statusCode).toBe(200);
    expect(await auditTypes()).toEqual(
      expect.arrayContaining([
        'fleet.endpoint_revoked:laptop-a:',
        'fleet.endpoint_reenroll_opened:laptop-a:',
      ]),
    );
  });

  it('bad input: a malformed source_id or an unknown endpoint is a 4xx naming it, never a 500', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: `/v1/fleet/endpoints/${encodeURIComponent('a b')}/revoke`,
      headers: bearer(admin),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('source_id');
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/endpoints/never-seen/reenroll',
      headers: bearer(admin),
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('cross-tenant: another tenant admin cannot see or revoke this tenant endpoints', async () => {
    const other = await createTenant(t.app);
    const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/fleet/endpoints',
      headers: bearer(otherAdmin),
    });
    expect(list.json()).toEqual([]);
    const revoke = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/endpoints/fake-1/revoke',
      headers: bearer(otherAdmin),
    });
    expect(revoke.statusCode).toBe(404);
  });
});
