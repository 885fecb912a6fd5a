import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { auditOfType, openSession, SESSION_COOKIE } from '../helpers/sessions.js';

describe('browser sessions: API key → cookie, CSRF, logout, admin revoke, timeouts', () => {
  let t: TestApp;
  let tenant: string;
  let admin: { raw: string; id: string };
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    admin = await createKey(t.app, tenant, 'admin');
  });
  afterAll(() => t.close());

  const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({ cookie, ...extra });

  it('GET /v1/auth/sso is public and says no SSO is configured', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/sso' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      oidc: { enabled: false, login_url: null },
      saml: { enabled: false, login_url: null },
    });
  });

  it('POST /v1/auth/session sets a __Host- cookie (HttpOnly, Secure, SameSite=Lax) and answers the contract', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/session',
      payload: { api_key: admin.raw },
    });
    expect(res.statusCode).toBe(201);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('Secure');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).not.toMatch(/Domain=/i);
    const body = res.json();
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.session).toEqual({
      id: expect.any(String),
      expires_at: expect.any(String),
      idle_expires_at: expect.any(String),
    });
    expect(new Date(body.session.idle_expires_at) <= new Date(body.session.expires_at)).toBe(true);
    expect(body.principal).toMatchObject({ tenant_id: tenant, role: 'admin', auth_method: 'session' });
    expect(res.body).not.toContain(admin.raw);
    expect(t.logs.join('\n')).not.toContain(/=([^;]+)/.exec(setCookie)![1]);
  });

  it('the cookie authenticates; /v1/auth/me says how, with the session and its CSRF token', async () => {
    const s = await openSession(t, admin.raw);
    const me = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      tenant_id: tenant,
      role: 'admin',
      auth_method: 'session',
      key_id: admin.id,
      session: { id: s.id, via: 'api_key', expires_at: expect.any(String) },
      csrf_token: s.csrf,
    });
    const viaKey = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(admin.raw) });
    expect(viaKey.json().auth_method).toBe('api_key');
    expect(viaKey.json().csrf_token).toBeUndefined();
  });

  it('CSRF: a cookie-authenticated POST without (or with a wrong) x-csrf-token is a 403; with it, it works', async () => {
    const s = await openSession(t, admin.raw);
    const payload = { role: 'viewer', name: 'from-console' };
    const none = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: withCookie(s.cookie),
      payload,
    });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.code).toBe('CSRF_TOKEN_INVALID');
    const other = await openSession(t, admin.raw);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: withCookie(s.cookie, { 'x-csrf-token': other.csrf }),
      payload,
    });
    expect(wrong.json().error.code).toBe('CSRF_TOKEN_INVALID');
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: withCookie(s.cookie, { 'x-csrf-token': s.csrf }),
      payload,
    });
    expect(ok.statusCode).toBe(201);
    // A bearer needs no CSRF token.
    const viaBearer = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: bearer(admin.raw),
      payload,
    });
    expect(viaBearer.statusCode).toBe(201);
  });

  it('a presented bearer wins over the cookie: a bad bearer with a good cookie is a 401', async () => {
    const s = await openSession(t, admin.raw);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: { cookie: s.cookie, authorization: `Bearer abom_${'Z'.repeat(43)}` },
    });
    expect(res.statusCode).toBe(401);
  });

  it('logout ends the session at once, clears the cookie and is audited', async () => {
    const s = await openSession(t, admin.raw);
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: withCookie(s.cookie),
    });
    expect(noCsrf.statusCode).toBe(403);
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: withCookie(s.cookie, { 'x-csrf-token': s.csrf }),
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(
      new RegExp(`^${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`),
    );
    const after = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) });
    expect(after.statusCode).toBe(401);
    const ended = await auditOfType(t, admin.raw, 'session.ended');
    expect(ended.map((e) => e.resource_id)).toContain(s.id);
    const created = await auditOfType(t, admin.raw, 'session.created');
    expect(created.find((e) => e.resource_id === s.id)).toMatchObject({
      details: { via: 'api_key', role: 'admin' },
      actor: { method: 'api_key', key_id: admin.id },
    });
  });

  it('an admin lists the live sessions of their tenant and revokes one; it stops working at once', async () => {
    const viewer = await createKey(t.app, tenant, 'viewer');
    const s = await openSession(t, viewer.raw);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/v1/auth/sessions',
      headers: bearer(admin.raw),
    });
    expect(listed.statusCode).toBe(200);
    const mine = listed.json().items.find((i: { id: string }) => i.id === s.id);
    expect(mine).toMatchObject({ tenant_id: tenant, role: 'viewer', via: 'api_key', key_id: viewer.id });
    expect(listed.body).not.toMatch(/token_hash|csrf/);
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${s.id}`,
      headers: bearer(admin.raw),
    });
    expect(revoked.statusCode).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) })).statusCode,
    ).toBe(401);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${s.id}`,
      headers: bearer(admin.raw),
    });
    expect(again.statusCode).toBe(204);
    const audit = await auditOfType(t, admin.raw, 'session.revoked');
    expect(audit.filter((e) => e.resource_id === s.id)).toHaveLength(1);
  });

  it('a session dies with the API key that opened it', async () => {
    const analyst = await createKey(t.app, tenant, 'analyst');
    const s = await openSession(t, analyst.raw);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) })).statusCode,
    ).toBe(200);
    await t.app.inject({ method: 'DELETE', url: `/v1/auth/keys/${analyst.id}`, headers: bearer(admin.raw) });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) })).statusCode,
    ).toBe(401);
  });

  it('idle and absolute timeouts end a session', async () => {
    const idle = await openSession(t, admin.raw);
    await t.db.dataSource.query(
      `UPDATE auth_sessions SET idle_expires_at = now() - interval '1 second' WHERE id = $1`,
      [idle.id],
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(idle.cookie) }))
        .statusCode,
    ).toBe(401);
    const absolute = await openSession(t, admin.raw);
    await t.db.dataSource.query(
      `UPDATE auth_sessions SET expires_at = now() - interval '1 second', idle_expires_at = now() - interval '1 second'
        WHERE id = $1`,
      [absolute.id],
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(absolute.cookie) }))
        .statusCode,
    ).toBe(401);
  });

  it('the idle deadline slides forward with use but never past the absolute one', async () => {
    const s = await openSession(t, admin.raw);
    await t.db.dataSource.query(
      `UPDATE auth_sessions SET last_seen_at = now() - interval '5 minutes',
              idle_expires_at = now() + interval '1 minute' WHERE id = $1`,
      [s.id],
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: withCookie(s.cookie) })).statusCode,
    ).toBe(200);
    let row: { idle: Date; abs: Date } | undefined;
    for (let i = 0; i < 40; i++) {
      [row] = await t.db.dataSource.query(
        `SELECT idle_expires_at AS idle, expires_at AS abs FROM auth_sessions WHERE id = $1`,
        [s.id],
      );
      if (row!.idle.getTime() - Date.now() > 10 * 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(row!.idle.getTime() - Date.now()).toBeGreaterThan(25 * 60_000);
    expect(row!.idle.getTime()).toBeLessThanOrEqual(row!.abs.getTime());
  });

  describe('bad-input and wrong-role', () => {
    it.each([
      ['a wrong key', { api_key: `abom_${'Q'.repeat(43)}` }, 401],
      ['no key', {}, 400],
      ['a key that is not a string', { api_key: 42 }, 400],
      ['a JWT instead of a key', { api_key: 'eyJhbGciOiJub25lIn0.e30.' }, 400],
      ['an extra field', { api_key: `abom_${'Q'.repeat(43)}`, tenant_id: 'other' }, 400],
    ])('%s is refused without a cookie', async (_label, payload, status) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/session', payload });
      expect(res.statusCode).toBe(status);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('a form post (login CSRF) is refused: the body must be JSON', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `api_key=${admin.raw}`,
      });
      expect(res.statusCode).toBe(415);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it.each(['fleet-push', 'proxy', 'gateway'] as const)(
      'a %s key cannot open a session (403)',
      async (role) => {
        const key = await createKey(t.app, tenant, role);
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/auth/session',
          payload: { api_key: key.raw },
        });
        expect(res.statusCode).toBe(403);
        expect(res.headers['set-cookie']).toBeUndefined();
      },
    );

    it('a forged or malformed cookie is a 401', async () => {
      for (const cookie of [
        `${SESSION_COOKIE}=${'A'.repeat(43)}`,
        `${SESSION_COOKIE}=short`,
        `${SESSION_COOKIE}=`,
      ]) {
        const res = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie } });
        expect(res.statusCode).toBe(401);
      }
    });

    it('a viewer or analyst session cannot list or revoke sessions', async () => {
      for (const role of ['viewer', 'analyst'] as const) {
        const key = await createKey(t.app, tenant, role);
        expect(
          (await t.app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: bearer(key.raw) }))
            .statusCode,
        ).toBe(403);
      }
    });
  });

  describe('cross-tenant', () => {
    it("an admin neither sees nor revokes another tenant's session (404)", async () => {
      const other = await createTenant(t.app);
      const otherAdmin = await createKey(t.app, other, 'admin');
      const s = await openSession(t, otherAdmin.raw);
      const listed = await t.app.inject({
        method: 'GET',
        url: '/v1/auth/sessions',
        headers: bearer(admin.raw),
      });
      expect(listed.json().items.map((i: { id: string }) => i.id)).not.toContain(s.id);
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/v1/auth/sessions/${s.id}`,
        headers: bearer(admin.raw),
      });
      expect(res.statusCode).toBe(404);
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie: s.cookie } })).statusCode,
      ).toBe(200);
    });
  });
});
