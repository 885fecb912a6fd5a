import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe("cross-tenant: another tenant's objects do not exist for you (404, never 403)", () => {
  let t: TestApp;
  let adminA: string;
  let adminB: string;
  let keyOfA: { raw: string; id: string };
  beforeAll(async () => {
    t = await startTestApp();
    const a = await createTenant(t.app);
    const b = await createTenant(t.app);
    adminA = (await createKey(t.app, a, 'admin')).raw;
    adminB = (await createKey(t.app, b, 'admin')).raw;
    keyOfA = await createKey(t.app, a, 'viewer');
  });
  afterAll(() => t.close());

  it.each([
    ['GET', (id: string) => `/v1/auth/keys/${id}`],
    ['DELETE', (id: string) => `/v1/auth/keys/${id}`],
    ['POST', (id: string) => `/v1/auth/keys/${id}/rotate`],
  ] as const)('%s on a key of tenant A with tenant B admin key → 404', async (method, url) => {
    const res = await t.app.inject({ method, url: url(keyOfA.id), headers: bearer(adminB), payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it("B's attempts left A's key untouched and working", async () => {
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(keyOfA.raw) });
    expect(me.statusCode).toBe(200);
    const row = await t.db.dataSource.query('SELECT revoked_at, replaced_by FROM api_keys WHERE id = $1', [
      keyOfA.id,
    ]);
    expect(row).toEqual([{ revoked_at: null, replaced_by: null }]);
  });

  it("listing shows only the caller's tenant", async () => {
    const listB = await t.app.inject({ method: 'GET', url: '/v1/auth/keys', headers: bearer(adminB) });
    expect(listB.json().items.map((k: { id: string }) => k.id)).not.toContain(keyOfA.id);
    const listA = await t.app.inject({ method: 'GET', url: '/v1/auth/keys', headers: bearer(adminA) });
    expect(listA.json().items.map((k: { id: string }) => k.id)).toContain(keyOfA.id);
  });

  it('a tenant in the body, query or headers is ignored: the key decides', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys?tenant_id=other',
      headers: { ...bearer(adminB), 'x-agent-bom-tenant-id': 'other' },
      payload: { role: 'viewer', tenant_id: 'other' },
    });
    expect(res.statusCode).toBe(400); // tenant_id is not a field of this body
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: { ...bearer(adminB), 'x-agent-bom-tenant-id': 'other' },
      payload: { role: 'viewer' },
    });
    expect(ok.json().key.tenant_id).not.toBe('other');
  });
});
