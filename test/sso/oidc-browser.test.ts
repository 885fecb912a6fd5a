import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { makeIdpKey, TestIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/ports.js';
import { auditOfType } from '../helpers/sessions.js';

const AUDIENCE = 'api://agent-bom';

describe('OIDC browser login (code + PKCE) through a real IdP, in headless Chromium', () => {
  let idp: TestIdp;
  let t: TestApp;
  let browser: Browser;
  let origin: string;
  const tenant = `sso${Date.now().toString(36)}`;
  const accounts: Record<string, Record<string, unknown>> = {
    alice: { tenant_id: tenant, agent_bom_role: 'analyst' },
    mallory: { tenant_id: tenant, agent_bom_role: 'platform-admin' },
    erin: { tenant_id: tenant, agent_bom_role: 'analyst' },
  };

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    idp = await TestIdp.start({
      keys: [await makeIdpKey('b1')],
      audience: AUDIENCE,
      accounts,
      browserClient: { clientId: 'agent-bom-console', redirectUris: [`${origin}/v1/auth/oidc/callback`] },
    });
    t = await startTestApp({
      env: {
        AGENT_BOM_OIDC_ISSUER: idp.issuer,
        AGENT_BOM_OIDC_AUDIENCE: AUDIENCE,
        AGENT_BOM_OIDC_CLIENT_ID: 'agent-bom-console',
        AGENT_BOM_OIDC_REDIRECT_URI: `${origin}/v1/auth/oidc/callback`,
        AGENT_BOM_OIDC_SCOPES: 'openid email agent_bom',
      },
    });
    await t.app.listen(port, '127.0.0.1');
    await createTenant(t.app, tenant);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await idp?.stop();
  });

  async function loginAs(login: string, returnTo: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/v1/auth/oidc/login?return_to=${encodeURIComponent(returnTo)}`);
    expect(page.url().startsWith(idp.issuer)).toBe(true);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    if (page.url().startsWith(idp.issuer)) {
      await page.click('button[type="submit"]'); // consent
      await page.waitForLoadState();
    }
    return { context, page };
  }

  it('GET /v1/auth/sso offers the OIDC login', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/sso' });
    expect(res.json().oidc).toEqual({ enabled: true, login_url: '/v1/auth/oidc/login' });
  });

  it("logs in through the IdP's pages, lands on return_to with a session, and calls a protected route", async () => {
    const { context, page } = await loginAs('alice', '/v1/auth/me');
    expect(page.url()).toBe(`${origin}/v1/auth/me`);
    const result = await page.evaluate(async () => {
      const me = await (await fetch('/v1/auth/me')).json();
      const policies = await fetch('/v1/gateway/policies');
      return { me, policies: policies.status };
    });
    expect(result.me).toMatchObject({
      tenant_id: tenant,
      role: 'analyst',
      subject: 'alice@example.test',
      auth_method: 'session',
      session: { via: 'oidc' },
    });
    expect(result.policies).toBe(200);
    const cookies = await context.cookies(origin);
    // Cookies are not port-scoped: the IdP's own `_session` sits beside ours on 127.0.0.1. The login cookie is gone.
    const names = cookies.map((c) => c.name);
    expect(names).toContain('__Host-agent_bom_session');
    expect(names).not.toContain('__Host-agent_bom_login');
    await context.close();
    const admin = (await createKey(t.app, tenant, 'admin')).raw;
    const created = await auditOfType(t, admin, 'session.created');
    expect(created[0]).toMatchObject({ details: { via: 'oidc', subject: 'alice@example.test' } });
  });

  it('a platform-admin role claim gets no session (401), audited with its reason', async () => {
    const { context, page } = await loginAs('mallory', '/');
    expect(await page.content()).toContain('UNAUTHENTICATED');
    expect((await context.cookies(origin)).map((c) => c.name)).not.toContain('__Host-agent_bom_session');
    await context.close();
    const admin = (await createKey(t.app, tenant, 'admin')).raw;
    const refused = await auditOfType(t, admin, 'auth.refused');
    expect(refused.map((e) => (e.details as Record<string, string>).reason)).toContain('role_not_grantable');
  });

  it('a person SCIM deactivated is refused by sub (their SCIM externalId), whatever their email', async () => {
    const admin = (await createKey(t.app, tenant, 'admin')).raw;
    const token = await t.app.inject({ method: 'POST', url: '/v1/auth/scim-token', headers: bearer(admin) });
    expect(token.statusCode).toBe(201);
    // SCIM knows her under another userName and no email: only the IdP's user id (the ID token's sub) matches.
    const provisioned = await t.app.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: { ...bearer(token.json().token), 'content-type': 'application/scim+json' },
      payload: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'erin.legacy',
        externalId: 'erin',
        active: false,
      }),
    });
    expect(provisioned.statusCode).toBe(201);
    const { context, page } = await loginAs('erin', '/');
    expect(await page.content()).toContain('UNAUTHENTICATED');
    expect((await context.cookies(origin)).map((c) => c.name)).not.toContain('__Host-agent_bom_session');
    await context.close();
    const refused = await auditOfType(t, admin, 'auth.refused');
    expect(refused.map((e) => (e.details as Record<string, string>).reason)).toContain('user_deactivated');
  });

  describe('refusals of the callback (each a 401, no session)', () => {
    const start = async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/auth/oidc/login?return_to=//evil.example/x',
      });
      expect(res.statusCode).toBe(302);
      const state = new URL(String(res.headers.location)).searchParams.get('state')!;
      const cookie = String(res.headers['set-cookie']).split(';')[0];
      return { state, cookie };
    };
    const callback = (query: string, cookie?: string) =>
      t.app.inject({
        method: 'GET',
        url: `/v1/auth/oidc/callback?${query}`,
        headers: cookie ? { cookie } : {},
      });

    it('an unknown state', async () => {
      const res = await callback('code=abc&state=never-issued-state-value');
      expect(res.statusCode).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('a state from another browser (no login cookie), which is then used up', async () => {
      const { state, cookie } = await start();
      expect((await callback(`code=abc&state=${state}`)).statusCode).toBe(401);
      expect((await callback(`code=abc&state=${state}`, cookie)).statusCode).toBe(401);
      expect(t.logs.join('\n')).toContain('state_not_from_this_browser');
    });

    it('a reused state: the first use consumes it, whatever the outcome', async () => {
      const { state, cookie } = await start();
      const first = await callback(`code=forged-code&state=${state}`, cookie);
      expect(first.statusCode).toBe(401);
      const again = await callback(`code=forged-code&state=${state}`, cookie);
      expect(again.statusCode).toBe(401);
      expect(again.json().error.message).toContain('unknown_or_used_state');
    });

    it('the IdP redirect carries PKCE S256 and a nonce', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/auth/oidc/login' });
      const url = new URL(String(res.headers.location));
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(String(res.headers['set-cookie'])).toMatch(
        /^__Host-agent_bom_login=.*HttpOnly; Secure; SameSite=Lax/,
      );
    });
  });

  it('the API-key path still works beside OIDC', async () => {
    const key = (await createKey(t.app, tenant, 'viewer')).raw;
    expect((await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(key) })).statusCode).toBe(
      200,
    );
  });
});
