import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { open } from './console-helpers.js';
import type { Seeded } from './seed.js';
import { startSeededConsole, type SeededConsole } from './setup.js';

/**
 * Regenerates the screenshots in docs/console/ (`npm run console:screenshots`): a real control plane seeded
 * through the CLI and API exactly like the browser suite, photographed in headless Chromium. Not part of
 * `npm test` (its name does not end in .test.ts).
 */
const OUT = path.resolve('docs/console');
const SHOTS: [string, string, string | RegExp][] = [
  ['login', '/login', 'agent-bom console'],
  ['overview', '/', 'Overview'],
  ['fleet', '/fleet', 'Fleet'],
  ['servers', '/servers', 'MCP servers'],
  ['upstreams', '/servers?tab=upstreams', 'MCP servers'],
  ['findings', '/findings', 'Findings'],
  ['runtime', '/runtime', 'Runtime decisions'],
  ['audit', '/audit?seq=1', 'Audit'],
  ['keys', '/keys', 'Keys and sessions'],
];

describe('console screenshots', () => {
  let app: SeededConsole | undefined;
  let s: Seeded;
  let page: Page;
  beforeAll(async () => {
    app = await startSeededConsole({ viewport: { width: 1280, height: 800 } });
    ({ s, page } = app);
    await fs.mkdir(OUT, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  }, 60_000);

  it('photographs the main screens', async () => {
    // a policy with history, so the editor shows versions and a dry run
    await open(page, s.origin, '/policies/new', 'New policy');
    await page.getByLabel('Name').fill('no-shell-in-prod');
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByTestId('policy-version').getByText('version 1').waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByTestId('policy-version').getByText('version 2').waitFor();
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('dry-run-result').waitFor();
    await page.getByRole('button', { name: 'v2' }).click();
    await page.getByLabel('Changes between versions').waitFor();
    await page.screenshot({ path: path.join(OUT, 'policy.png'), fullPage: true });
    // a finding's page: triage, remediation, blast radius
    await open(page, s.origin, '/findings?kind=vulnerability', 'Findings');
    await page.getByRole('region', { name: 'Findings table' }).getByRole('link').first().click();
    await page.locator('.graph canvas').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1500); // the layout settles
    await page.screenshot({ path: path.join(OUT, 'finding.png'), fullPage: true });
    for (const [name, url, heading] of SHOTS) {
      if (name === 'login') {
        const context = await app!.browser.newContext({ viewport: { width: 1280, height: 800 } });
        const fresh = await context.newPage();
        await fresh.goto(s.origin + url);
        await fresh.getByRole('heading', { name: heading }).waitFor();
        await fresh.screenshot({ path: path.join(OUT, `${name}.png`) });
        await context.close();
        continue;
      }
      await open(page, s.origin, url, heading);
      await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: name !== 'fleet' });
    }
  }, 120_000);
});
