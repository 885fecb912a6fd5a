import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { makeIdpKey, TestIdp, type IdpKey } from '../helpers/oidc-idp.js';
import { auditOfType } from '../helpers/sessions.js';

const AUDIENCE = 'api://agent-bom';
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('OIDC bearer JWTs against a real oidc-provider on loopback', () => {
  let idp: TestIdp;
  let other: TestIdp;
  let k1: IdpKey;
  let k2: IdpKey;
  let t: TestApp;
  let acme: string;
  let bound: string;
  let acmeAdmin: string;
  let boundAdmin: string;
  let platform: string;
  const service: Record<string, Record<string, unknown>> = {
    'svc-analyst': {},
    'svc-group-admin': {},
    'svc-platform-claim': {},
  };

  const me = (token: string) => t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
  const refusals = async (tenant: string, key: string) =>
    (await auditOfType(t, key, 'auth.refused')).map((e) => e.details as Record<string, string>);

  beforeAll(async () => {
    k1 = await makeIdpKey('k1', 'ES256');
    k2 = await makeIdpKey('k2', 'RS256');
    idp = await TestIdp.start({ keys: [k1, k2], audience: AUDIENCE, serviceClients: service });
    other = await TestIdp.start({
      keys: [await makeIdpKey('o1')],
      audience: AUDIENCE,
      serviceClients: { 'svc-b': {} },
    });
    t = await startTestApp({
      env: {
        AGENT_BOM_OIDC_ISSUER: idp.issuer,
        AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
        AGENT_BOM_OIDC_GROUP_ROLE_MAP: JSON.stringify({ 'abom-admins': 'admin' }),
        AGENT_BOM_OIDC_JWKS_CACHE_SECONDS: '1',
        AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '1',
      },
    });
    acme = await createTenant(t.app);
    bound = await createTenant(t.app);
    acmeAdmin = (await createKey(t.app, acme, 'admin')).raw;
    boundAdmin = (await createKey(t.app, bound, 'admin')).raw;
    platform = (await createKey(t.app, await createTenant(t.app), 'platform-admin')).raw;
    Object.assign(service['svc-analyst'], { tenant_id: acme, agent_bom_role: 'analyst' });
    Object.assign(service['svc-group-admin'], { tenant_id: acme, groups: ['staff', 'abom-admins'] });
    Object.assign(service['svc-platform-claim'], { tenant_id: acme, agent_bom_role: 'platform-admin' });
    const res = await t.app.inject({
      method: 'PUT',
      url: `/v1/tenants/${bound}/oidc`,
      headers: bearer(platform),
      payload: { issuer: other.issuer, audience: AUDIENCE, group_roles: { 'edge-gateways': 'gateway' } },
    });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
    await other?.stop();
  });

  it("accepts the IdP's own access token: tenant and human role from the claims, auth_method oidc", async () => {
    const res = await me(await idp.serviceToken('svc-analyst'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenant_id: acme, role: 'analyst', auth_method: 'oidc', key_id: null });
    expect(res.json().subject).toBe('svc-analyst');
  });

  it('maps a group to a role through the operator map (group wins over no role claim)', async () => {
    const res = await me(await idp.serviceToken('svc-group-admin'));
    expect(res.json()).toMatchObject({ tenant_id: acme, role: 'admin' });
  });

  it('an OIDC principal works on protected routes and is kept out of other tenants', async () => {
    const token = await idp.sign({ sub: 'alice', tenant_id: acme, agent_bom_role: 'viewer' });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/gateway/policies', headers: bearer(token) })).statusCode,
    ).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/auth/keys',
          headers: bearer(token),
          payload: { role: 'viewer' },
        })
      ).statusCode,
    ).toBe(403);
  });

  it("a tenant-bound issuer mints only its tenant, with the platform admin's group map (even to a machine role)", async () => {
    const own = await other.sign({ sub: 'edge-1', groups: ['edge-gateways'] });
    expect((await me(own)).json()).toMatchObject({ tenant_id: bound, role: 'gateway', auth_method: 'oidc' });
    const human = await other.sign({ sub: 'bob', agent_bom_role: 'analyst', tenant_id: bound });
    expect((await me(human)).json()).toMatchObject({ tenant_id: bound, role: 'analyst' });
  });

  describe('refusals: each a 401, its reason in the audit, no session', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => Promise<string>, string, () => string]> = [
      [
        'expired',
        () => idp.sign({ sub: 'a', tenant_id: acme, iat: now() - 600, exp: now() - 120 }),
        'expired',
        () => acme,
      ],
      [
        'not yet valid',
        () => idp.sign({ sub: 'a', tenant_id: acme, nbf: now() + 300 }),
        'not_yet_valid',
        () => acme,
      ],
      [
        'issued in the future',
        () => idp.sign({ sub: 'a', tenant_id: acme, iat: now() + 300 }),
        'issued_in_future',
        () => acme,
      ],
      [
        'wrong audience',
        () => idp.sign({ sub: 'a', tenant_id: acme, aud: 'api://other' }),
        'wrong_audience',
        () => acme,
      ],
      [
        'wrong issuer',
        () => idp.sign({ sub: 'a', tenant_id: acme, iss: 'https://idp.evil.example' }),
        'unknown_issuer',
        () => acme,
      ],
      [
        'alg: none',
        async () =>
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: AUDIENCE, sub: 'a', tenant_id: acme, iat: now(), exp: now() + 300 })}.`,
        'algorithm_not_allowed',
        () => acme,
      ],
      [
        'HS256 signed with the public key',
        () =>
          new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'a', tenant_id: acme })
            .setProtectedHeader({ alg: 'HS256', kid: 'k2' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(JSON.stringify(k2.publicJwk))),
        'algorithm_not_allowed',
        () => acme,
      ],
      [
        'unknown kid',
        async () => idp.sign({ sub: 'a', tenant_id: acme }, { key: await makeIdpKey('k-unknown') }),
        'unknown_kid',
        () => acme,
      ],
      [
        'a signature by another key under a known kid',
        async () => idp.sign({ sub: 'a', tenant_id: acme }, { key: { ...(await makeIdpKey('k1')) } }),
        'bad_signature',
        () => acme,
      ],
      [
        'a role claim of platform-admin',
        () => idp.serviceToken('svc-platform-claim'),
        'role_not_grantable',
        () => acme,
      ],
      [
        'an unknown role claim',
        () => idp.sign({ sub: 'a', tenant_id: acme, agent_bom_role: 'root' }),
        'unknown_role',
        () => acme,
      ],
      [
        'a tenant the issuer is not bound to (bound issuer, other tenant claim)',
        () => other.sign({ sub: 'b', tenant_id: acme }),
        'tenant_not_bound',
        () => bound,
      ],
      [
        'the deployment-wide issuer naming a tenant that has its own issuer',
        () => idp.sign({ sub: 'a', tenant_id: bound }),
        'tenant_not_bound',
        () => bound,
      ],
    ];

    it.each(cases)('%s', async (_label, make, reason, tenantOf) => {
      const sessionsBefore = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM auth_sessions`);
      const res = await me(await make());
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
      expect(res.headers['set-cookie']).toBeUndefined();
      const key = tenantOf() === acme ? acmeAdmin : boundAdmin;
      const reasons = (await refusals(tenantOf(), key)).map((d) => d.reason);
      expect(reasons).toContain(reason);
      const sessionsAfter = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM auth_sessions`);
      expect(sessionsAfter).toEqual(sessionsBefore);
    });

    it('a missing tenant claim is a 401 (logged with its reason: no tenant to audit it in)', async () => {
      const res = await me(await idp.sign({ sub: 'a' }));
      expect(res.statusCode).toBe(401);
      expect(t.logs.join('\n')).toContain('login refused: oidc missing_tenant_claim');
    });

    it('with AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT, a deployment-wide token naming no tenant is audited there, marked unattributed', async () => {
      const opsTenant = await createTenant(t.app);
      const opsAdmin = (await createKey(t.app, opsTenant, 'admin')).raw;
      const replica = await startTestApp({
        db: t.db,
        env: {
          AGENT_BOM_OIDC_ISSUER: idp.issuer,
          AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
          AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT: opsTenant,
        },
      });
      try {
        const call = async (token: string) =>
          replica.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
        const noClaim = await idp.sign({ sub: 'nobody' });
        expect((await call(noClaim)).statusCode).toBe(401);
        expect((await call(await idp.sign({ sub: 'nobody', tenant_id: 'no-such-tenant' }))).statusCode).toBe(
          401,
        );
        // Not the deployment's IdP: no tenant can be trusted with it, it stays out of every ledger.
        expect((await call(await other.sign({ sub: 'x', iss: 'https://stranger.invalid' }))).statusCode).toBe(
          401,
        );
        const events = await auditOfType(replica, opsAdmin, 'auth.refused');
        const details = events.map((e) => e.details as Record<string, unknown>);
        expect(details.map((d) => d.reason).sort()).toEqual(['missing_tenant_claim', 'unknown_tenant']);
        for (const d of details)
          expect(d).toMatchObject({ method: 'oidc', unattributed: true, issuer: idp.issuer });
        expect(JSON.stringify(events)).not.toContain(noClaim.split('.')[2]);
        // A token that names an existing tenant still goes to that tenant only.
        expect(
          (await call(await idp.sign({ sub: 'a', tenant_id: acme, aud: 'api://nope' }))).statusCode,
        ).toBe(401);
        expect((await auditOfType(replica, opsAdmin, 'auth.refused')).length).toBe(2);
      } finally {
        await replica.close();
      }
    });

    it('a JWT-shaped bearer that fails never falls through to the API-key lookup', async () => {
      const res = await me(`${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: idp.issuer })}.AAAA`);
      expect(res.statusCode).toBe(401);
    });

    it('the audit never holds the token', async () => {
      const token = await idp.sign({ sub: 'a', tenant_id: acme, aud: 'api://other' });
      await me(token);
      const ledger = await t.app.inject({
        method: 'GET',
        url: '/v1/audit?limit=500',
        headers: bearer(acmeAdmin),
      });
      expect(ledger.body).not.toContain(token.split('.')[2]);
      expect(t.logs.join('\n')).not.toContain(token.split('.')[2]);
    });

    it('a key rotated out of the JWKS stops working once the cached JWKS expires', async () => {
      const token = await idp.sign({ sub: 'rot', tenant_id: acme }, { key: k2 });
      expect((await me(token)).statusCode).toBe(200);
      const port = idp.port;
      await idp.stop();
      idp = await TestIdp.start({ keys: [k1], audience: AUDIENCE, serviceClients: service, port });
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect((await me(token)).statusCode).toBe(401);
      expect((await refusals(acme, acmeAdmin)).map((d) => d.reason)).toContain('unknown_kid');
      // The key still in the JWKS keeps working.
      expect((await me(await idp.sign({ sub: 'rot', tenant_id: acme }, { key: k1 }))).statusCode).toBe(200);
    });
  });

  describe('one-time jti, shared by replicas through PostgreSQL', () => {
    it('a jti is accepted once across two replicas; a token without jti is refused in this mode', async () => {
      const env = {
        AGENT_BOM_OIDC_ISSUER: idp.issuer,
        AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
        AGENT_BOM_OIDC_ONE_TIME_JTI: '1',
      };
      const r1 = await startTestApp({ db: t.db, env });
      const r2 = await startTestApp({ db: t.db, env });
      try {
        const token = await idp.sign({ sub: 'j', tenant_id: acme, jti: `jti-${Date.now()}` });
        const first = await r1.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
        expect(first.statusCode).toBe(200);
        const replay = await r2.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
        expect(replay.statusCode).toBe(401);
        const noJti = await idp.sign({ sub: 'j', tenant_id: acme });
        expect(
          (await r1.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(noJti) })).statusCode,
        ).toBe(401);
        expect((await refusals(acme, acmeAdmin)).map((d) => d.reason)).toContain('replayed_jti');
      } finally {
        await r1.close();
        await r2.close();
      }
    });
  });

  describe("GET /v1/gateway/oidc-issuers: what a gateway of the key's tenant trusts", () => {
    const ask = (key: string) =>
      t.app.inject({ method: 'GET', url: '/v1/gateway/oidc-issuers', headers: bearer(key) });

    it("a tenant with its own IdP gets that issuer alone (bound), with the platform admin's group map", async () => {
      const res = await ask((await createKey(t.app, bound, 'gateway')).raw);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        tenant_id: bound,
        issuers: [
          {
            issuer: other.issuer,
            jwks_uri: null,
            bound: true,
            tenant_claim: 'tenant_id',
            role_claim: 'agent_bom_role',
            groups_claim: 'groups',
            group_roles: { 'edge-gateways': 'gateway' },
          },
        ],
      });
    });

    it('any other tenant gets the deployment-wide issuer, whose tokens must name the tenant', async () => {
      const res = await ask((await createKey(t.app, acme, 'gateway')).raw);
      expect(res.json()).toEqual({
        tenant_id: acme,
        issuers: [
          {
            issuer: idp.issuer,
            jwks_uri: null,
            bound: false,
            tenant_claim: 'tenant_id',
            role_claim: 'agent_bom_role',
            groups_claim: 'groups',
            group_roles: { 'abom-admins': 'admin' },
          },
        ],
      });
    });

    it('wrong-role: keys without keys:introspect (a tenant admin, a proxy key) are refused', async () => {
      expect((await ask(acmeAdmin)).statusCode).toBe(403);
      expect((await ask((await createKey(t.app, acme, 'proxy')).raw)).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'GET', url: '/v1/gateway/oidc-issuers' })).statusCode).toBe(401);
    });
  });

  describe('issuer bindings API (platform admin)', () => {
    const put = (key: string, tenant: string, payload: object) =>
      t.app.inject({ method: 'PUT', url: `/v1/tenants/${tenant}/oidc`, headers: bearer(key), payload });

    it('shows the binding and audits the change', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/tenants/${bound}/oidc`,
        headers: bearer(platform),
      });
      expect(res.json()).toMatchObject({
        tenant_id: bound,
        issuer: other.issuer,
        group_roles: { 'edge-gateways': 'gateway' },
      });
    });

    it('wrong-role: a tenant admin can neither read nor change bindings', async () => {
      expect((await put(acmeAdmin, acme, { issuer: other.issuer, audience: AUDIENCE })).statusCode).toBe(403);
      expect(
        (await t.app.inject({ method: 'GET', url: `/v1/tenants/${bound}/oidc`, headers: bearer(boundAdmin) }))
          .statusCode,
      ).toBe(403);
    });

    it.each([
      ['an http issuer off loopback', { issuer: 'http://idp.example.com', audience: AUDIENCE }, 400],
      [
        'a group mapped to no role',
        { issuer: 'https://idp.example.com', audience: AUDIENCE, group_roles: { x: 'root' } },
        400,
      ],
      ['no audience', { issuer: 'https://idp.example.com' }, 400],
      ['an unknown field', { issuer: 'https://idp.example.com', audience: AUDIENCE, tenant: 'x' }, 400],
    ])('bad-input: %s', async (_label, payload, status) => {
      expect((await put(platform, acme, payload)).statusCode).toBe(status);
    });

    it('refuses an issuer bound elsewhere, the deployment-wide issuer, and an unknown tenant', async () => {
      expect(
        (await put(platform, acme, { issuer: other.issuer, audience: AUDIENCE })).json().error.code,
      ).toBe('CONFLICT');
      expect((await put(platform, acme, { issuer: idp.issuer, audience: AUDIENCE })).json().error.code).toBe(
        'CONFLICT',
      );
      expect(
        (await put(platform, 'no-such-tenant', { issuer: 'https://x.example', audience: AUDIENCE }))
          .statusCode,
      ).toBe(404);
      expect(
        (await put(platform, 'Not_A_Tenant', { issuer: 'https://x.example', audience: AUDIENCE })).statusCode,
      ).toBe(400);
    });

    it("removing the binding stops that IdP's tokens at once; both changes are audited", async () => {
      const token = await other.sign({ sub: 'bob', agent_bom_role: 'viewer' });
      expect((await me(token)).statusCode).toBe(200);
      const del = await t.app.inject({
        method: 'DELETE',
        url: `/v1/tenants/${bound}/oidc`,
        headers: bearer(platform),
      });
      expect(del.statusCode).toBe(204);
      expect((await me(token)).statusCode).toBe(401);
      const types = (await auditOfType(t, platform, 'sso.oidc_issuer_bound')).map((e) => e.resource_id);
      expect(types).toContain(bound);
      const unbound = (await auditOfType(t, platform, 'sso.oidc_issuer_unbound')).map((e) => e.resource_id);
      expect(unbound).toContain(bound);
    });
  });
});
