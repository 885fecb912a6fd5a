import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, createTenant } from '../helpers/factories.js';
import {
  b64,
  postToAcs,
  SAML_ACS as ACS,
  SAML_IDP as IDP,
  SAML_SP as SP,
  samlEnv,
  startSamlLogin,
  samlKeyPair,
  samlResponseXml,
  signAssertion,
  type AssertionFields,
  type SamlKeyPair,
} from '../helpers/saml-idp.js';
import { auditOfType } from '../helpers/sessions.js';

describe('SAML 2.0 SP: real XML-DSig-signed responses posted to the ACS', () => {
  let t: TestApp;
  let idp: SamlKeyPair;
  let impostor: SamlKeyPair;
  let tenant: string;
  let admin: string;

  beforeAll(async () => {
    idp = await samlKeyPair();
    impostor = await samlKeyPair('impostor.example.test');
    t = await startTestApp({ env: samlEnv(idp) });
    tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
  });
  afterAll(() => t.close());

  async function start(returnTo = '/') {
    const login = await startSamlLogin(t.app, returnTo);
    expect(login.url.origin + login.url.pathname).toBe('https://idp.example.test/sso');
    return login;
  }

  const fields = (requestId: string, extra: Partial<AssertionFields> = {}): AssertionFields => ({
    idpEntityId: IDP,
    spEntityId: SP,
    acsUrl: ACS,
    inResponseTo: requestId,
    nameId: 'alice@corp.example',
    attributes: { tenant_id: tenant, agent_bom_role: 'analyst', email: 'alice@corp.example' },
    ...extra,
  });

  const post = (samlResponse: string, relayState: string) => postToAcs(t.app, samlResponse, relayState);

  it('serves SP metadata with the entity id and the ACS', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/saml/metadata' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/samlmetadata+xml');
    expect(res.body).toContain(`entityID="${SP}"`);
    expect(res.body).toContain(`Location="${ACS}"`);
  });

  it('a signed assertion for the login in flight opens a session and redirects to return_to', async () => {
    const { relayState, requestId, request } = await start('/fleet');
    expect(request).toContain(`AssertionConsumerServiceURL="${ACS}"`);
    const res = await post(b64(signAssertion(samlResponseXml(fields(requestId)), idp)), relayState);
    expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 303 });
    expect(res.headers.location).toBe('/fleet');
    const cookie = String(res.headers['set-cookie']).split(';')[0];
    expect(cookie).toMatch(/^__Host-agent_bom_session=/);
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie } });
    expect(me.json()).toMatchObject({
      tenant_id: tenant,
      role: 'analyst',
      subject: 'alice@corp.example',
      auth_method: 'session',
      session: { via: 'saml' },
    });
    const created = await auditOfType(t, admin, 'session.created');
    expect(created[0]).toMatchObject({ details: { via: 'saml', subject: 'alice@corp.example' } });
  });

  describe('refusals: each a 401, its reason in the audit, no session', () => {
    const signed = (requestId: string, extra: Partial<AssertionFields> = {}) =>
      signAssertion(samlResponseXml(fields(requestId, extra)), idp);

    const cases: Array<[string, (requestId: string) => string | Promise<string>, string]> = [
      ['unsigned', (id) => samlResponseXml(fields(id)), 'invalid_response'],
      [
        'tampered after signing',
        (id) => signed(id).replace('agent_bom_role">', 'agent_bom_role">').replace('>analyst<', '>admin<'),
        'invalid_response',
      ],
      [
        'signed with the wrong certificate',
        (id) => signAssertion(samlResponseXml(fields(id)), impostor),
        'invalid_response',
      ],
      [
        'expired',
        (id) =>
          signed(id, {
            notBefore: new Date(Date.now() - 3_600_000),
            notOnOrAfter: new Date(Date.now() - 600_000),
          }),
        'invalid_response',
      ],
      [
        'wrong audience',
        (id) => signed(id, { audience: 'https://other-sp.example.test' }),
        'invalid_response',
      ],
      [
        'wrong recipient',
        (id) => signed(id, { recipient: 'https://other-sp.example.test/acs' }),
        'wrong_recipient',
      ],
      [
        'wrong destination',
        (id) => signed(id, { destination: 'https://other-sp.example.test/acs' }),
        'wrong_destination',
      ],
      ['an answer to another request', () => signed('_someone-elses-request'), 'invalid_response'],
      [
        'XSW: the signed assertion wrapped away, an unsigned evil one in its place',
        (id) => {
          const good = signed(id);
          const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(good)![0];
          const evil = samlResponseXml(
            fields(id, {
              nameId: 'evil@corp.example',
              attributes: { tenant_id: tenant, agent_bom_role: 'admin' },
            }),
          );
          const evilAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(evil)![0];
          return good.replace(
            assertion,
            evilAssertion.replace('<saml:Subject>', `<saml:Subject><saml:Advice>${assertion}</saml:Advice>`),
          );
        },
        'invalid_response',
      ],
      [
        'XSW: an evil assertion placed before the signed one',
        (id) => {
          const good = signed(id);
          const evil = samlResponseXml(
            fields(id, {
              nameId: 'evil@corp.example',
              attributes: { tenant_id: tenant, agent_bom_role: 'admin' },
            }),
          );
          const evilAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(evil)![0];
          return good.replace('<saml:Assertion ', `${evilAssertion}<saml:Assertion `);
        },
        'invalid_response',
      ],
      [
        'comment injection in NameID',
        (id) =>
          signed(id, { nameId: 'alice@corp.example.evil.example' }).replace(
            'alice@corp.example.evil.example<',
            'alice@corp.example<!---->.evil.example<',
          ),
        'comment_in_assertion',
      ],
      [
        'a platform-admin role attribute',
        (id) => signed(id, { attributes: { tenant_id: tenant, agent_bom_role: 'platform-admin' } }),
        'role_not_grantable',
      ],
    ];

    it.each(cases)('%s', async (_label, make, reason) => {
      const { relayState, requestId } = await start();
      const res = await post(b64(await make(requestId)), relayState);
      expect({ status: res.statusCode, reason: res.json().error?.message }).toEqual({
        status: 401,
        reason: `SAML login refused: ${reason}`,
      });
      expect(res.headers['set-cookie']).toBeUndefined();
      const reasons = (await auditOfType(t, admin, 'auth.refused')).map(
        (e) => (e.details as Record<string, string>).reason,
      );
      expect(reasons).toContain(reason);
    });

    it('a reused RelayState', async () => {
      const { relayState, requestId } = await start();
      const response = b64(signed(requestId));
      expect((await post(response, relayState)).statusCode).toBe(303);
      const again = await post(response, relayState);
      expect(again.statusCode).toBe(401);
      expect(again.json().error.message).toContain('unknown_or_used_relay_state');
      expect(again.headers['set-cookie']).toBeUndefined();
    });

    it('a replayed assertion (same assertion id, answering a fresh login)', async () => {
      const assertionId = `_a-replay-${Date.now()}`;
      const first = await start();
      expect((await post(b64(signed(first.requestId, { assertionId })), first.relayState)).statusCode).toBe(
        303,
      );
      const second = await start();
      const res = await post(b64(signed(second.requestId, { assertionId })), second.relayState);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('replayed_assertion');
    });

    it('bad-input: no form, a JSON body, or a form on another route', async () => {
      expect((await t.app.inject({ method: 'POST', url: '/v1/auth/saml/acs', payload: {} })).statusCode).toBe(
        401,
      );
      const elsewhere = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'api_key=abom_x',
      });
      expect(elsewhere.statusCode).toBe(415);
    });
  });
});
