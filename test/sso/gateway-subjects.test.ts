import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

/** `POST /v1/gateway/oidc-subjects`: SCIM's standing of an access token's person, for a gateway key's own tenant. */
describe('gateway SCIM standing route', () => {
  let t: TestApp;
  let acme: string;
  let other: string;
  let gatewayKey: string;
  let otherGatewayKey: string;
  let analyst: string;
  let userId: string;

  const ask = (key: string, payload: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/gateway/oidc-subjects',
      headers: bearer(key),
      payload: payload as object,
    });

  beforeAll(async () => {
    t = await startTestApp();
    acme = await createTenant(t.app);
    other = await createTenant(t.app);
    gatewayKey = (await createKey(t.app, acme, 'gateway')).raw;
    otherGatewayKey = (await createKey(t.app, other, 'gateway')).raw;
    analyst = (await createKey(t.app, acme, 'analyst')).raw;
    const admin = (await createKey(t.app, acme, 'admin')).raw;
    const scim = (
      await t.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(admin) })
    ).json().token as string;
    const created = await t.app.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: { ...bearer(scim), 'content-type': 'application/scim+json' },
      payload: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'dana@acme.example',
        externalId: 'dana-id',
        active: false,
      }),
    });
    expect(created.statusCode).toBe(201);
    userId = created.json().id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers a person's standing in the key's own tenant, matched by userName or externalId", async () => {
    for (const query of [
      { subject: 'DANA@acme.example', sub: null },
      { subject: 'someone-else', sub: 'dana-id' },
    ]) {
      const res = await ask(gatewayKey, query);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        tenant_id: acme,
        tenant_uses_scim: true,
        active: false,
        deleted_at: null,
      });
    }
    expect(userId).toBeDefined();
  });

  it('cross-tenant: another tenant’s gateway key learns nothing of this tenant’s people', async () => {
    const res = await ask(otherGatewayKey, { subject: 'dana@acme.example', sub: 'dana-id' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ tenant_id: other, tenant_uses_scim: false, active: null, deleted_at: null });
  });

  it('wrong-role: a human key may not ask (keys:introspect only)', async () => {
    expect((await ask(analyst, { subject: 'dana@acme.example', sub: null })).statusCode).toBe(403);
  });

  it('bad-input: a missing or oversized subject, an unknown field, is a 400', async () => {
    for (const payload of [
      { sub: null },
      { subject: 'x'.repeat(400), sub: null },
      { subject: 'a', sub: null, tenant_id: other },
      { subject: 'a', sub: 42 },
    ]) {
      expect((await ask(gatewayKey, payload)).statusCode).toBe(400);
    }
  });

  it('unauthenticated: no key is a 401', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/gateway/oidc-subjects',
      payload: { subject: 'a', sub: null },
    });
    expect(res.statusCode).toBe(401);
  });
});
