import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { createTenant } from '../helpers/factories.js';
import { makeIdpKey, TestIdp } from '../helpers/oidc-idp.js';
import { freePort } from '../helpers/ports.js';
import { axeSerious } from './console-helpers.js';

const AUDIENCE = 'api://agent-bom';

/** The console's SSO button through a real IdP's pages (oidc-provider), in headless Chromium. */
describe('console sign-in through a real OIDC IdP', () => {
  let idp: TestIdp;
  let t: TestApp;
  let browser: Browser;
  let origin: string;
  const tenant = `consolesso${Date.now().toString(36)}`;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    idp = await TestIdp.start({
      keys: [await makeIdpKey('c1')],
      audience: AUDIENCE,
      accounts: { alice: { tenant_id: tenant, agent_bom_role: 'analyst' } },
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
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await idp?.stop();
  }, 60_000);

  it('offers the OIDC button, logs in on the IdP page, lands on the console as an analyst, and signs out', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${origin}/login`);
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole('link', { name: 'Sign in with OIDC' }).click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.fill('input[name="login"]', 'alice');
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    if (page.url().startsWith(idp.issuer)) await page.click('button[type="submit"]'); // consent
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${origin}/`);
    await expect(page.getByTestId('whoami').innerText()).resolves.toMatch(/analyst/);
    // an analyst reads policies but has no write button
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
    expect(await page.getByRole('link', { name: 'New policy' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key', { exact: true }).waitFor();
    expect(await page.evaluate(async () => (await fetch('/v1/auth/me')).status)).toBe(401);
  }, 60_000);
});
