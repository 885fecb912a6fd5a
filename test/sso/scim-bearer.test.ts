import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { makeIdpKey, TestIdp } from '../helpers/oidc-idp.js';
import { auditOfType } from '../helpers/sessions.js';

const AUDIENCE = 'api://agent-bom';
const TTL_SECONDS = 2;

/**
 * SCIM deprovisioning reaches OIDC bearer tokens already issued: at once on the replica that received the SCIM
 * call (despite its verified-token cache), within AGENT_BOM_AUTH_CACHE_TTL_SECONDS on another replica.
 */
describe('SCIM deactivation and deletion refuse OIDC bearer tokens already issued', () => {
  let idp: TestIdp;
  let a: TestApp;
  let b: TestApp;
  let acme: string;
  let other: string;
  let late: string;
  let acmeAdmin: string;
  const scim: Record<string, string> = {};

  beforeAll(async () => {
    idp = await TestIdp.start({ keys: [await makeIdpKey('k1')], audience: AUDIENCE, serviceClients: {} });
    const env = {
      AGENT_BOM_OIDC_ISSUER: idp.issuer,
      AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
      AGENT_BOM_AUTH_CACHE_TTL_SECONDS: String(TTL_SECONDS),
    };
    a = await startTestApp({ env });
    b = await startTestApp({ db: a.db, env });
    acme = await createTenant(a.app);
    other = await createTenant(a.app);
    late = await createTenant(a.app);
    acmeAdmin = (await createKey(a.app, acme, 'admin')).raw;
    for (const tenant of [acme, other, late]) {
      const admin = (await createKey(a.app, tenant, 'admin')).raw;
      const res = await a.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(admin) });
      expect(res.statusCode).toBe(201);
      scim[tenant] = res.json().token;
    }
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await idp?.stop();
  });

  const scimCall = (tenant: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    a.app.inject({
      method,
      url,
      headers: { ...bearer(scim[tenant]), ...(payload ? { 'content-type': 'application/scim+json' } : {}) },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
  const provision = async (tenant: string, userName: string, email?: string, externalId?: string) => {
    const res = await scimCall(tenant, 'POST', '/scim/v2/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      ...(email ? { emails: [{ value: email, primary: true }] } : {}),
      ...(externalId ? { externalId } : {}),
      active: true,
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const setActive = async (tenant: string, id: string, active: boolean) => {
    const res = await scimCall(tenant, 'PATCH', `/scim/v2/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active } }],
    });
    expect(res.statusCode).toBe(200);
  };
  const status = async (t: TestApp, token: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) })).statusCode;
  const token = (tenant: string, claims: Record<string, unknown>) =>
    idp.sign({ tenant_id: tenant, agent_bom_role: 'analyst', ...claims });
  /** Polls until `t` answers `want`, for at most the cache bound plus a margin; returns the last status. */
  const within = async (t: TestApp, bearerToken: string, want: number) => {
    const deadline = Date.now() + (TTL_SECONDS + 2) * 1000;
    let last = await status(t, bearerToken);
    while (last !== want && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      last = await status(t, bearerToken);
    }
    return last;
  };

  it('deactivation: the same token is refused at once here, within the cache bound on another replica', async () => {
    const id = await provision(acme, 'alice', 'Alice@Corp.example');
    const twin = await provision(other, 'alice', 'Alice@Corp.example');
    const alice = await token(acme, { sub: 'u-1', email: 'alice@corp.example' });
    const otherAlice = await token(other, { sub: 'u-1', email: 'alice@corp.example' });
    // Both replicas have verified (and cached) the token before the IdP deactivates her.
    expect([await status(a, alice), await status(b, alice), await status(a, otherAlice)]).toEqual([
      200, 200, 200,
    ]);

    await setActive(acme, id, false);
    expect(await status(a, alice)).toBe(401);
    expect(await within(b, alice, 401)).toBe(401);
    // The same person name in another tenant is another person.
    expect(await status(a, otherAlice)).toBe(200);
    expect(twin).not.toBe(id);

    const refused = (await auditOfType(a, acmeAdmin, 'auth.refused')).map((e) => e.details);
    expect(refused).toContainEqual(
      expect.objectContaining({ method: 'oidc', reason: 'user_deactivated', subject: 'u-1' }),
    );

    // Reactivated by the IdP: a fresh token is accepted at once (this replica has just re-read her as inactive).
    expect(await status(a, alice)).toBe(401);
    await setActive(acme, id, true);
    expect(await status(a, await token(acme, { sub: 'u-1', email: 'alice@corp.example' }))).toBe(200);
  });

  it('matches the subject claim to userName when the token carries no email', async () => {
    const id = await provision(acme, 'dave');
    const dave = await token(acme, { sub: 'DAVE' });
    expect(await status(a, dave)).toBe(200);
    await setActive(acme, id, false);
    expect(await status(a, dave)).toBe(401);
  });

  it("matches an opaque sub to the SCIM externalId (the IdP's user id), exactly and in the token's tenant only", async () => {
    const id = await provision(acme, 'frank@corp.example', 'frank@corp.example', '00u1FrankOpaque');
    await provision(other, 'frank-other', undefined, '00u1FrankOpaque');
    // An access token that carries only the IdP's user id (Okta, Entra `oid` as sub): no email, no username.
    const frank = await token(acme, { sub: '00u1FrankOpaque' });
    const otherFrank = await token(other, { sub: '00u1FrankOpaque' });
    expect([await status(a, frank), await status(a, otherFrank)]).toEqual([200, 200]);
    await setActive(acme, id, false);
    expect(await status(a, frank)).toBe(401);
    expect(await within(b, frank, 401)).toBe(401);
    expect(await status(a, otherFrank)).toBe(200);
    // externalId is an opaque id: another case is another id.
    expect(await status(a, await token(acme, { sub: '00U1FRANKOPAQUE' }))).toBe(200);
    const refused = (await auditOfType(a, acmeAdmin, 'auth.refused')).map((e) => e.details);
    expect(refused).toContainEqual(
      expect.objectContaining({ method: 'oidc', reason: 'user_deactivated', subject: '00u1FrankOpaque' }),
    );
  });

  it('deletion reaches a token that names the person by externalId alone', async () => {
    const id = await provision(acme, 'grace@corp.example', 'grace@corp.example', '00u2GraceOpaque');
    const grace = await token(acme, { sub: '00u2GraceOpaque' });
    expect(await status(a, grace)).toBe(200);
    expect((await scimCall(acme, 'DELETE', `/scim/v2/Users/${id}`)).statusCode).toBe(204);
    expect(await status(a, grace)).toBe(401);
    const refused = (await auditOfType(a, acmeAdmin, 'auth.refused')).map((e) => e.details);
    expect(refused).toContainEqual(
      expect.objectContaining({ method: 'oidc', reason: 'user_deleted', subject: '00u2GraceOpaque' }),
    );
  });

  it('deletion: a token issued before it is refused; the same userName in another tenant is unaffected', async () => {
    const id = await provision(acme, 'bob@corp.example');
    await provision(other, 'bob@corp.example');
    const bob = await token(acme, { sub: 'u-2', email: 'bob@corp.example' });
    const otherBob = await token(other, { sub: 'u-2', email: 'bob@corp.example' });
    expect([await status(a, bob), await status(b, bob)]).toEqual([200, 200]);

    expect((await scimCall(acme, 'DELETE', `/scim/v2/Users/${id}`)).statusCode).toBe(204);
    const deletedAt = Date.now();
    expect(await status(a, bob)).toBe(401);
    expect(await within(b, bob, 401)).toBe(401);
    expect(await status(a, otherBob)).toBe(200);
    const refused = (await auditOfType(a, acmeAdmin, 'auth.refused')).map((e) => e.details);
    expect(refused).toContainEqual(expect.objectContaining({ method: 'oidc', reason: 'user_deleted' }));

    // A token issued after the deletion (beyond the 60 s skew) is accepted: the person is unknown to SCIM again.
    // Its iat is set 60 s ahead (the most the verifier tolerates) a little after the deletion.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, deletedAt + 1500 - Date.now())));
    const later = await token(acme, {
      sub: 'u-2',
      email: 'bob@corp.example',
      iat: Math.floor(Date.now() / 1000) + 60,
    });
    expect(await status(a, later)).toBe(200);
  });

  it('a tenant that starts using SCIM: a replica that saw none follows within the cache bound', async () => {
    const erin = await token(late, { sub: 'u-5', email: 'erin@corp.example' });
    expect([await status(a, erin), await status(b, erin)]).toEqual([200, 200]);
    const id = await provision(late, 'erin@corp.example');
    await setActive(late, id, false);
    expect(await status(a, erin)).toBe(401);
    expect(await within(b, erin, 401)).toBe(401);
  });

  it('a person SCIM does not know keeps working', async () => {
    expect(await status(a, await token(acme, { sub: 'u-3', email: 'carol@corp.example' }))).toBe(200);
    expect(await status(b, await token(other, { sub: 'svc-robot' }))).toBe(200);
  });
});
