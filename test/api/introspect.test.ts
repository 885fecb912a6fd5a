import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ApiKeysRepository } from '../../src/modules/auth/api-keys.repository.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe('POST /v1/auth/introspect', () => {
  let t: TestApp;
  let gatewayA: string;
  let clientA: { raw: string; id: string };
  let clientB: string;
  beforeAll(async () => {
    t = await startTestApp();
    const a = await createTenant(t.app);
    const b = await createTenant(t.app);
    gatewayA = (await createKey(t.app, a, 'gateway')).raw;
    clientA = await createKey(t.app, a, 'analyst');
    clientB = (await createKey(t.app, b, 'admin')).raw;
  });
  afterAll(() => t.close());

  const introspect = (key: string, token: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/introspect', headers: bearer(key), payload: { token } });

  it("a usable key of the gateway's tenant is active, with its role and permissions", async () => {
    const res = await introspect(gatewayA, clientA.raw);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ active: true, role: 'analyst', key_id: clientA.id });
    expect(res.json().permissions).toContain('audit:read');
    expect(res.body).not.toContain(clientA.raw);
  });

  it.each([
    ["another tenant's key (cross-tenant: nothing confirms it exists)", () => clientB],
    ['an unknown key', () => `abom_${'Z'.repeat(43)}`],
    ['garbage', () => 'not a key'],
  ])('%s is {active:false} and nothing else', async (_label, token) => {
    const res = await introspect(gatewayA, token());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
  });

  it("cross-tenant: another tenant's key that this process has cached answers as an unknown key does", async () => {
    // The foreign key is used on this replica, so it sits verified in the in-process key cache.
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(clientB) })).statusCode,
    ).toBe(200);
    await introspect(gatewayA, clientA.raw); // the gateway's own key is cached too: the guard looks nothing up
    const repository = t.app.get(ApiKeysRepository);
    const spies = (['findByLookupPrefix', 'findByLookupPrefixInTenant', 'findById'] as const).map((method) =>
      jest.spyOn(repository, method).mockName(method),
    );
    const answer = async (token: string) => {
      spies.forEach((spy) => spy.mockClear());
      const res = await introspect(gatewayA, token);
      const lookups = spies.flatMap((spy) => spy.mock.calls.map(() => spy.getMockName()));
      return { status: res.statusCode, body: res.body, lookups };
    };
    try {
      const unknown = await answer(`abom_${'Y'.repeat(43)}`);
      expect(unknown).toEqual({
        status: 200,
        body: '{"active":false}',
        lookups: ['findByLookupPrefixInTenant'],
      });
      // The same body, status and work: a cache hit on a foreign key is not a faster "no".
      expect(await answer(clientB)).toEqual(unknown);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
  });

  it('a revoked key becomes inactive at once on this replica', async () => {
    const victim = await createKey(
      t.app,
      (await introspect(gatewayA, clientA.raw)).json().tenant_id,
      'viewer',
    );
    expect((await introspect(gatewayA, victim.raw)).json().active).toBe(true);
    const admin = (
      await createKey(t.app, (await introspect(gatewayA, clientA.raw)).json().tenant_id, 'admin')
    ).raw;
    await t.app.inject({ method: 'DELETE', url: `/v1/auth/keys/${victim.id}`, headers: bearer(admin) });
    expect((await introspect(gatewayA, victim.raw)).json()).toEqual({ active: false });
  });

  it('only gateway keys may introspect (wrong role → 403)', async () => {
    expect((await introspect(clientA.raw, clientA.raw)).statusCode).toBe(403);
    expect((await introspect(clientB, clientB)).statusCode).toBe(403);
  });

  it.each([[{}], [{ token: 42 }], [{ token: 'x'.repeat(201) }], [{ token: 'x', extra: 1 }]])(
    'bad input %j → 400',
    async (payload) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/introspect',
        headers: bearer(gatewayA),
        payload,
      });
      expect(res.statusCode).toBe(400);
    },
  );
});
