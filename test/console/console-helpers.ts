import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core on the current page, serious and critical violations only. Injected through the DevTools protocol
 * (page.evaluate), which the page's CSP does not govern — an inline <script> would be (rightly) refused.
 */
export async function axeSerious(
  page: Page,
): Promise<{ id: string; impact: string | null; help: string; targets: string }[]> {
  await page.evaluate(`${AXE_SOURCE};0`);
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: JSON.stringify(v.nodes.map((n) => n.target)),
    }));
}

/** Opens a deep link and waits until the screen has its heading and no pending request. */
export async function open(
  page: Page,
  origin: string,
  path: string,
  heading: string | RegExp,
): Promise<void> {
  await page.goto(origin + path);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  await page.getByText('Loading…').waitFor({ state: 'detached', timeout: 10_000 });
}

export async function signIn(context: BrowserContext, origin: string, key: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/login`);
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: 15_000 });
  return page;
}

/** Every request the page makes to anything but its own origin (data: URLs aside). */
export function watchEgress(page: Page, origin: string): string[] {
  const leaving: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('data:')) leaving.push(url);
  });
  return leaving;
}
