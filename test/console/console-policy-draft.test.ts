import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { PolicyView } from '../../libs/contracts/src/index.js';
import type { TestApp } from '../helpers/app.js';
import { axeSerious, open } from './console-helpers.js';
import { call, type Seeded } from './seed.js';
import { startSeededConsole } from './setup.js';

const EDITOR = 'Policy document (JSON, libs/policy schema)';

/**
 * The policy editor dry-runs what is in it, saved or not, in headless Chromium against a real control plane: the
 * decision comes from the server's evaluation of the draft, an invalid draft shows its problems inline (the
 * browser's schema check, or the server's compile refusal), and nothing is written.
 */
describe('console: dry run of an unsaved policy draft', () => {
  let t: TestApp;
  let browser: Browser;
  let s: Seeded;
  let page: Page;
  let egress: string[];
  const evaluations: string[] = [];

  /** Policies, their versions and audit entries: a draft's dry run must leave all three as they were. */
  const written = async () =>
    JSON.stringify(
      await t.db.dataSource.query(`SELECT (SELECT count(*) FROM policies) AS p,
                (SELECT count(*) FROM policy_versions) AS v, (SELECT count(*) FROM audit_entries) AS a`),
    );
  const evaluate = async () => {
    await page.getByRole('button', { name: 'Evaluate' }).click();
  };

  beforeAll(async () => {
    ({ t, s, browser, page, egress } = await startSeededConsole());
    page.on('request', (request) => {
      if (request.url().endsWith('/v1/gateway/evaluate')) evaluations.push(request.postData() ?? '');
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('a new policy, never saved, is dry-run from the editor; nothing is written', async () => {
    await open(page, s.origin, '/policies/new', 'New policy');
    await page.getByLabel('Name').fill('draft-only');
    await page
      .getByLabel(EDITOR)
      .fill(JSON.stringify({ version: 1, rules: [{ id: 'shell', effect: 'deny', tools: ['run_*'] }] }));
    await page.getByTestId('schema-ok').waitFor();
    const before = await written();
    await page.getByLabel('Tool').fill('run_shell');
    await evaluate();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(
      /deny[\s\S]*draft-only\/shell/,
    );
    expect(JSON.parse(evaluations.at(-1)!)).toMatchObject({
      tool: 'run_shell',
      draft: { name: 'draft-only', document: { rules: [{ id: 'shell' }] } },
    });
    await page.getByLabel('Tool').fill('read_file');
    await evaluate();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(/^allow/);
    expect(await written()).toBe(before);
    const list = await call<{ items: PolicyView[] }>(s.origin, s.adminKey, 'GET', '/v1/gateway/policies');
    expect(list.items.map((p) => p.name)).not.toContain('draft-only');
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it('a draft failing the schema is not sent: its problems are listed in the dry run', async () => {
    await open(page, s.origin, '/policies/new', 'New policy');
    await page.getByLabel(EDITOR).fill('{"version": 1, "rules": [{"id": "shell", "effect": "explode"}]}');
    await page.getByRole('list', { name: 'Schema problems' }).waitFor();
    const sent = evaluations.length;
    await evaluate();
    const problems = page.getByRole('list', { name: 'The draft cannot be dry-run' });
    await expect(problems.innerText()).resolves.toContain('/rules/0/effect');
    await expect(page.getByTestId('dry-run-result').count()).resolves.toBe(0);
    expect(evaluations.length).toBe(sent);
    // not JSON at all
    await page.getByLabel(EDITOR).fill('{"version": 1, "rules": [');
    await evaluate();
    await expect(problems.innerText()).resolves.toContain('JSON');
    expect(evaluations.length).toBe(sent);
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it("the server's refusal of a draft (a catastrophic regex the schema cannot see) is listed inline", async () => {
    await open(page, s.origin, '/policies/new', 'New policy');
    await page.getByLabel('Name').fill('redos');
    await page
      .getByLabel(EDITOR)
      .fill(JSON.stringify({ version: 1, rules: [{ id: 'r', effect: 'deny', tools: ['/^(\\w+\\s?)*$/'] }] }));
    await page.getByTestId('schema-ok').waitFor();
    const before = await written();
    await evaluate();
    const refused = page.getByRole('list', { name: 'Server refused the draft' });
    await expect(refused.innerText()).resolves.toMatch(/tools\[0\][\s\S]*(backtrack|catastroph|nested)/i);
    await expect(page.getByTestId('dry-run-result').count()).resolves.toBe(0);
    expect(await written()).toBe(before);
  }, 60_000);

  it("a saved policy's unsaved edits are dry-run as the draft; its saved version and the bundle on demand", async () => {
    const saved = await call<PolicyView>(s.origin, s.adminKey, 'POST', '/v1/gateway/policies', {
      name: 'edited',
      enabled: false,
      document: { version: 1, rules: [{ id: 'writes', effect: 'warn', tools: ['write_file'] }] },
    });
    await open(page, s.origin, `/policies/${saved.id}`, /edited/);
    await page
      .getByLabel(EDITOR)
      .fill(JSON.stringify({ version: 1, rules: [{ id: 'writes', effect: 'deny', tools: ['write_file'] }] }));
    const before = await written();
    await page.getByLabel('Tool').fill('write_file');
    await evaluate();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(
      /^deny[\s\S]*edited\/writes/,
    );
    await page.getByLabel('Against').selectOption('policy');
    await evaluate();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(
      /^warn[\s\S]*edited\/writes/,
    );
    expect(JSON.parse(evaluations.at(-1)!)).toMatchObject({ policy_id: saved.id });
    await page.getByLabel('Against').selectOption('effective');
    await evaluate();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(/^allow/); // disabled
    await expect(page.getByTestId('policy-version').innerText()).resolves.toBe('version 1');
    expect(await written()).toBe(before);
    expect(egress).toEqual([]);
  }, 60_000);
});
