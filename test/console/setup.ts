import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/browser.js';
import { signIn, watchEgress } from './console-helpers.js';
import { seed, type Seeded } from './seed.js';

/** What every console suite starts from: a seeded control plane, headless Chromium and a signed-in admin. */
export interface SeededConsole {
  t: TestApp;
  s: Seeded;
  browser: Browser;
  admin: BrowserContext;
  page: Page;
  /** Requests the admin page made to any other origin (the suites expect none). */
  egress: string[];
  close(): Promise<void>;
}

export async function startSeededConsole(
  options: { env?: Record<string, string>; viewport?: { width: number; height: number } } = {},
): Promise<SeededConsole> {
  const t = await startTestApp({ env: options.env });
  await t.app.listen(0, '127.0.0.1');
  const origin = (await t.app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const s = await seed(t, origin);
  const browser = await launchChromium();
  const admin = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await signIn(admin, s.origin, s.adminKey);
  const egress = watchEgress(page, s.origin);
  return {
    t,
    s,
    browser,
    admin,
    page,
    egress,
    async close() {
      await browser.close();
      await t.close();
    },
  };
}
