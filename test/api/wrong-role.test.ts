import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

type Method = 'GET' | 'POST' | 'DELETE';
const SOME_UUID = '2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b';

/** Role × route: who is refused with 403 (valid credential, missing permission). */
const REFUSED: Array<[Role, Method, string, object | undefined]> = [
  ['viewer', 'POST', '/v1/auth/keys', { role: 'viewer' }],
  ['viewer', 'GET', '/v1/auth/keys', undefined],
  ['analyst', 'DELETE', `/v1/auth/keys/${SOME_UUID}`, undefined],
  ['fleet-push', 'GET', '/v1/auth/keys', undefined],
  ['fleet-push', 'POST', '/v1/auth/keys', { role: 'fleet-push' }],
  ['proxy', 'GET', '/v1/auth/keys', undefined],
  ['gateway', 'POST', `/v1/auth/keys/${SOME_UUID}/rotate`, {}],
  ['admin', 'POST', '/v1/tenants', { id: 'newco' }],
  ['admin', 'GET', '/v1/tenants', undefined],
  ['analyst', 'GET', '/v1/tenants', undefined],
  ['gateway', 'POST', '/v1/tenants', { id: 'newco' }],
];

describe('wrong role: a valid key without the permission gets 403 and changes nothing', () => {
  let t: TestApp;
  const keys = new Map<Role, string>();
  let tenant: string;
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[]) {
      keys.set(role, (await createKey(t.app, tenant, role)).raw);
    }
  });
  afterAll(() => t.close());

  it.each(REFUSED)('%s: %s %s → 403', async (role, method, url, payload) => {
    const before = await t.db.dataSource.query('SELECT count(*)::int AS n FROM api_keys');
    const res = await t.app.inject({
      method,
      url,
      headers: bearer(keys.get(role)!),
      ...(payload ? { payload } : {}),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(await t.db.dataSource.query('SELECT count(*)::int AS n FROM api_keys')).toEqual(before);
  });

  it('every role, machine roles included, may read /v1/auth/me', async () => {
    for (const [role, raw] of keys) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(raw) });
      expect({ role, status: res.statusCode }).toEqual({ role, status: 200 });
    }
  });

  it('an admin cannot mint a platform-admin key (no escalation)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: bearer(keys.get('admin')!),
      payload: { role: 'platform-admin' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toContain('platform-admin');
  });

  it('an admin can mint machine keys with least privilege', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: bearer(keys.get('admin')!),
      payload: { role: 'fleet-push', name: 'laptops' },
    });
    expect(res.statusCode).toBe(201);
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(res.json().raw_key) });
    expect(me.json().permissions).toEqual(['fleet:write', 'me:read', 'scan:push']);
  });
});
