import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { createKey, createTenant } from '../helpers/factories.js';

/**
 * Chromium treats http://127.0.0.1 as a secure context, so it keeps a `Secure` `__Host-` cookie there. Anywhere
 * else the control plane must be served over TLS (a TLS-terminating proxy in front) or the browser drops it.
 */
describe('browser session in headless Chromium on http://127.0.0.1', () => {
  let t: TestApp;
  let browser: Browser;
  let origin: string;
  let adminKey: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    origin = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    const tenant = await createTenant(t.app);
    adminKey = (await createKey(t.app, tenant, 'admin')).raw;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t.close();
  });

  it('keeps the Secure __Host- cookie, hides it from scripts, and needs the CSRF token for a POST', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/v1/auth/sso`);
    const result = await page.evaluate(async (key) => {
      const opened = await fetch('/v1/auth/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: key }),
      });
      const { csrf_token } = (await opened.json()) as { csrf_token: string };
      const me = await (await fetch('/v1/auth/me')).json();
      const noCsrf = await fetch('/v1/auth/logout', { method: 'POST' });
      const out = await fetch('/v1/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrf_token } });
      const after = await fetch('/v1/auth/me');
      return {
        opened: opened.status,
        me,
        scriptSees: (globalThis as unknown as { document: { cookie: string } }).document.cookie,
        noCsrf: noCsrf.status,
        out: out.status,
        after: after.status,
      };
    }, adminKey);
    expect(result.opened).toBe(201);
    expect(result.me).toMatchObject({ auth_method: 'session', role: 'admin' });
    expect(result.scriptSees).toBe('');
    expect(result.noCsrf).toBe(403);
    expect(result.out).toBe(204);
    expect(result.after).toBe(401);
    await page.close();
  });
});
