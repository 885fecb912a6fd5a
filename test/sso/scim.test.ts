import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import {
  b64,
  postToAcs,
  SAML_ACS as ACS,
  SAML_IDP as IDP,
  SAML_SP as SP,
  samlEnv,
  samlKeyPair,
  samlResponseXml,
  signAssertion,
  startSamlLogin,
  type SamlKeyPair,
} from '../helpers/saml-idp.js';
import { auditOfType } from '../helpers/sessions.js';

describe('SCIM 2.0: the IdP owns the lifecycle (users, groups → roles, deactivation ends sessions)', () => {
  let t: TestApp;
  let idp: SamlKeyPair;
  let tenant: string;
  let admin: string;
  let scim: string;

  beforeAll(async () => {
    idp = await samlKeyPair();
    t = await startTestApp({
      env: samlEnv(idp, { AGENT_BOM_SAML_GROUP_ROLE_MAP: JSON.stringify({ 'abom-admins': 'admin' }) }),
    });
    tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(admin) });
    expect(res.statusCode).toBe(201);
    scim = res.json().token;
  });
  afterAll(() => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    token = scim,
  ) =>
    t.app.inject({
      method,
      url,
      headers: { ...bearer(token), ...(payload ? { 'content-type': 'application/scim+json' } : {}) },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });

  /** A SAML login as `nameId` with role attribute `role`; returns the session cookie, or the refusal. */
  async function login(nameId: string, role = 'viewer') {
    const { relayState, requestId } = await startSamlLogin(t.app);
    const xml = signAssertion(
      samlResponseXml({
        idpEntityId: IDP,
        spEntityId: SP,
        acsUrl: ACS,
        inResponseTo: requestId,
        nameId,
        attributes: { tenant_id: tenant, agent_bom_role: role },
      }),
      idp,
    );
    const res = await postToAcs(t.app, b64(xml), relayState);
    return {
      status: res.statusCode,
      cookie: String(res.headers['set-cookie']).split(';')[0],
      body: res.body,
    };
  }
  const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie } });

  it('the SCIM token reaches /scim/v2 only; other credentials do not reach /scim/v2', async () => {
    expect((await call('GET', '/scim/v2/ServiceProviderConfig')).json().patch).toEqual({ supported: true });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(scim) })).statusCode,
    ).toBe(403);
    expect((await call('GET', '/scim/v2/Users', undefined, admin)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/scim/v2/Users' })).statusCode).toBe(401);
    expect((await call('GET', '/scim/v2/Users', undefined, `scim_${'A'.repeat(43)}`)).statusCode).toBe(401);
  });

  it('creates, finds by filter, and refuses a duplicate userName (RFC 7644 error shape)', async () => {
    const created = await call('POST', '/scim/v2/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'carol@corp.example',
      name: { givenName: 'Carol' },
      emails: [{ value: 'carol@corp.example', primary: true }],
      active: true,
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['content-type']).toContain('application/scim+json');
    expect(created.json()).toMatchObject({
      userName: 'carol@corp.example',
      active: true,
      meta: { resourceType: 'User' },
    });
    const found = await call(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName eq "CAROL@corp.example"')}`,
    );
    expect(found.json()).toMatchObject({ totalResults: 1, Resources: [{ id: created.json().id }] });
    const dup = await call('POST', '/scim/v2/Users', { userName: 'Carol@Corp.Example' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
    });
  });

  it('group membership drives the role; removal from the group ends the session at once', async () => {
    const carol = (
      await call('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "carol@corp.example"')}`)
    ).json().Resources[0].id;
    const group = await call('POST', '/scim/v2/Groups', {
      displayName: 'abom-admins',
      members: [{ value: carol }],
    });
    expect(group.statusCode).toBe(201);
    const first = await login('carol@corp.example', 'viewer');
    expect(first.status).toBe(303);
    expect((await me(first.cookie)).json()).toMatchObject({ role: 'admin', session: { via: 'saml' } });
    const patch = await call('PATCH', `/scim/v2/Groups/${group.json().id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${carol}"]` }],
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().members).toEqual([]);
    expect((await me(first.cookie)).statusCode).toBe(401);
    const again = await login('carol@corp.example', 'viewer');
    expect((await me(again.cookie)).json().role).toBe('viewer');
  });

  it('deactivation (Entra-style PATCH) ends every session at once and refuses the next login', async () => {
    const carol = (
      await call('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "carol@corp.example"')}`)
    ).json().Resources[0].id;
    const a = await login('carol@corp.example');
    const b = await login('carol@corp.example');
    expect((await me(a.cookie)).statusCode).toBe(200);
    const res = await call('PATCH', `/scim/v2/Users/${carol}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);
    expect((await me(a.cookie)).statusCode).toBe(401);
    expect((await me(b.cookie)).statusCode).toBe(401);
    const refused = await login('carol@corp.example');
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('user_deactivated');
    const audit = await auditOfType(t, admin, 'scim.user_deactivated');
    expect(audit[0]).toMatchObject({
      resource_id: carol,
      actor: { method: 'scim' },
    });
    expect(audit[0].details!.sessions_ended).toBeGreaterThanOrEqual(2);
    // Okta-style reactivation.
    const back = await call('PATCH', `/scim/v2/Users/${carol}`, {
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(back.json().active).toBe(true);
    expect((await login('carol@corp.example')).status).toBe(303);
  });

  it('deleting a user ends their sessions at once', async () => {
    const dave = (await call('POST', '/scim/v2/Users', { userName: 'dave@corp.example' })).json().id;
    const s = await login('dave@corp.example');
    expect((await me(s.cookie)).statusCode).toBe(200);
    expect((await call('DELETE', `/scim/v2/Users/${dave}`)).statusCode).toBe(204);
    expect((await me(s.cookie)).statusCode).toBe(401);
    expect((await call('GET', `/scim/v2/Users/${dave}`)).statusCode).toBe(404);
    expect((await auditOfType(t, admin, 'scim.user_deleted')).map((e) => e.resource_id)).toContain(dave);
  });

  describe('bad-input and cross-tenant', () => {
    it.each([
      ['no userName', 'POST', '/scim/v2/Users', { displayName: 'x' }, 400],
      ['a userName that is not a string', 'POST', '/scim/v2/Users', { userName: 42 }, 400],
      [
        'an unsupported filter',
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent('name.givenName co "a"')}`,
        undefined,
        400,
      ],
      ['count out of range', 'GET', '/scim/v2/Users?count=100000', undefined, 400],
      ['a malformed id', 'GET', '/scim/v2/Users/not-a-uuid', undefined, 404],
      [
        'a member who is not a user',
        'POST',
        '/scim/v2/Groups',
        { displayName: 'g1', members: [{ value: '2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b' }] },
        400,
      ],
      [
        'an unknown patch op',
        'PATCH',
        '/scim/v2/Users/2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b',
        { Operations: [{ op: 'move' }] },
        400,
      ],
    ] as const)('%s', async (_label, method, url, payload, status) => {
      const res = await call(method, url, payload);
      expect(res.statusCode).toBe(status);
      expect(res.json().schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    });

    it("another tenant's SCIM token sees none of these users and cannot change them", async () => {
      const other = await createTenant(t.app);
      const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
      const otherScim = (
        await t.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(otherAdmin) })
      ).json().token as string;
      const carol = (
        await call('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "carol@corp.example"')}`)
      ).json().Resources[0].id;
      expect((await call('GET', '/scim/v2/Users', undefined, otherScim)).json().totalResults).toBe(0);
      expect((await call('GET', `/scim/v2/Users/${carol}`, undefined, otherScim)).statusCode).toBe(404);
      expect((await call('DELETE', `/scim/v2/Users/${carol}`, undefined, otherScim)).statusCode).toBe(404);
      expect((await call('GET', `/scim/v2/Users/${carol}`)).statusCode).toBe(200);
    });

    it('a revoked SCIM token stops at once', async () => {
      const other = await createTenant(t.app);
      const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
      const token = (
        await t.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(otherAdmin) })
      ).json().token as string;
      expect((await call('GET', '/scim/v2/Users', undefined, token)).statusCode).toBe(200);
      await t.app.inject({ method: 'DELETE', url: '/v1/auth/scim-token', headers: bearer(otherAdmin) });
      expect((await call('GET', '/scim/v2/Users', undefined, token)).statusCode).toBe(401);
    });
  });
});
