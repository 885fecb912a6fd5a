import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe('tenants (platform admin)', () => {
  let t: TestApp;
  let platform: string;
  beforeAll(async () => {
    t = await startTestApp();
    platform = (await createKey(t.app, await createTenant(t.app), 'platform-admin')).raw;
  });
  afterAll(() => t.close());

  const post = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/v1/tenants', headers: bearer(platform), payload });

  it('creates a tenant and lists it', async () => {
    const res = await post({ id: 'acme', name: 'Acme Corp' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ tenant: { id: 'acme', name: 'Acme Corp', created_at: expect.any(String) } });
    const list = await t.app.inject({ method: 'GET', url: '/v1/tenants', headers: bearer(platform) });
    expect(list.json().items.map((x: { id: string }) => x.id)).toContain('acme');
  });

  it('refuses a duplicate id with 409 and changes nothing', async () => {
    await post({ id: 'dupe' });
    const res = await post({ id: 'dupe', name: 'other' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    const rows = await t.db.dataSource.query(`SELECT name FROM tenants WHERE id = 'dupe'`);
    expect(rows).toEqual([{ name: 'dupe' }]);
  });

  it("mints the new tenant's first admin key when asked, scoped to that tenant", async () => {
    const res = await post({ id: 'globex', create_admin_key: true });
    expect(res.statusCode).toBe(201);
    const key = res.json().admin_key.raw_key;
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(key) });
    expect(me.json()).toMatchObject({ tenant_id: 'globex', role: 'admin' });
  });

  it('two concurrent creations of one id: exactly one wins', async () => {
    const results = await Promise.all([post({ id: 'race' }), post({ id: 'race' }), post({ id: 'race' })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
  });
});
