import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  FINDING_KINDS,
  IMPACT_GROUPS,
  IMPACT_GROUP_TYPES,
  SCAN_SEVERITIES,
  type GraphImpactView,
  type AuditTrendsView,
  type GraphPageView,
} from '../../libs/contracts/src/index.js';
import { auditEvent } from '../helpers/audit.js';
import type { TestApp } from '../helpers/app.js';
import { axeSerious, open, signIn } from './console-helpers.js';
import { call, HOSTILE, type Seeded } from './seed.js';
import { startSeededConsole } from './setup.js';

/**
 * The web console in headless Chromium against a real control plane (the shipped createApp, listening, on its
 * own PostgreSQL database) seeded through the real CLI and API. One browser, one control plane for the file.
 */
describe('web console in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let s: Seeded;
  let page: Page;
  let egress: string[];

  beforeAll(async () => {
    ({ t, s, browser, page, egress } = await startSeededConsole({
      env: { AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '0' },
    }));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('ships at most 250 KB of gzipped JavaScript on the first load', async () => {
    const context = await browser.newContext();
    const fresh = await context.newPage();
    const scripts: Promise<number>[] = [];
    fresh.on('response', (response) => {
      if (response.request().resourceType() === 'script') {
        scripts.push(response.body().then((body) => gzipSync(body, { level: 9 }).length));
      }
    });
    await fresh.goto(`${s.origin}/login`);
    await fresh.getByLabel('API key', { exact: true }).waitFor();
    await fresh.waitForLoadState('networkidle');
    const sizes = await Promise.all(scripts);
    const total = sizes.reduce((a, b) => a + b, 0);
    process.stderr.write(
      `console first load: ${sizes.length} script(s), ${(total / 1024).toFixed(1)} KB gzipped\n`,
    );
    expect(sizes.length).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(250 * 1024);
    await context.close();
  }, 60_000);

  it('serves the SPA at / and deep links with a strict CSP, and leaves the API, probes and docs alone', async () => {
    const index = await fetch(`${s.origin}/policies/some-id`);
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script at all
    expect((await fetch(`${s.origin}/v1/nope`)).status).toBe(404);
    expect((await fetch(`${s.origin}/no-such-page`)).status).toBe(404);
    expect((await fetch(`${s.origin}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.origin}/v1/fleet`)).status).toBe(401);
    expect((await fetch(`${s.origin}/docs-json`)).headers.get('content-type')).toContain('json');
    // no credential in browser storage after sign-in
    const storage = (await page.evaluate(
      'JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })',
    )) as string;
    expect(storage).not.toContain('abom_');
    expect(await page.evaluate('document.cookie')).toBe(''); // the session cookie is HttpOnly
  });

  const SCREENS: [string, string | RegExp][] = [
    ['/', 'Overview'],
    ['/fleet', 'Fleet'],
    ['/servers', 'MCP servers'],
    ['/servers?tab=upstreams', 'MCP servers'],
    ['/findings', 'Findings'],
    ['/graph', 'Graph explorer'],
    ['/policies', 'Policies'],
    ['/policies/new', 'New policy'],
    ['/runtime', 'Runtime decisions'],
    ['/audit', 'Audit'],
    ['/keys', 'Keys and sessions'],
    ['/keys?tab=sessions', 'Keys and sessions'],
  ];

  it('walks every screen by deep link with no serious or critical axe violation', async () => {
    const failures: Record<string, unknown> = {};
    for (const [path, heading] of SCREENS) {
      await open(page, s.origin, path, heading);
      const violations = await axeSerious(page);
      if (violations.length) failures[path] = violations;
    }
    // an agent's page, reached by clicking through the fleet table
    await open(page, s.origin, '/fleet?q=alice', 'Fleet');
    await page.getByRole('link', { name: 'claude-desktop' }).click();
    await page.getByRole('heading', { level: 1, name: /claude-desktop/ }).waitFor();
    expect(await page.getByText('GITHUB_TOKEN').count()).toBeGreaterThan(0);
    const agentViolations = await axeSerious(page);
    if (agentViolations.length) failures['/fleet/:id'] = agentViolations;
    expect(failures).toEqual({});
  }, 120_000);

  it('shows the fleet and upstreams with filters in the URL', async () => {
    await open(page, s.origin, '/fleet?client=claude-desktop', 'Fleet');
    const table = page.getByRole('region', { name: 'Fleet agents table' });
    await expect(table.getByText('alice-mbp').count()).resolves.toBe(1);
    await expect(table.getByText('mallory').count()).resolves.toBe(0);
    await open(page, s.origin, '/servers?tab=upstreams', 'MCP servers');
    await expect(
      page.getByRole('region', { name: 'Discovered upstreams table' }).getByText('linear-1').count(),
    ).resolves.toBeGreaterThan(0);
  }, 60_000);

  it('lists pushed findings, triages one, and shows its remediation and blast radius graph', async () => {
    await open(page, s.origin, '/findings?kind=vulnerability', 'Findings');
    const table = page.getByRole('region', { name: 'Findings table' });
    const first = table.getByRole('link').first();
    const title = (await first.innerText()).trim();
    await first.click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await page.locator('.graph canvas').first().waitFor({ timeout: 15_000 });
    await expect(page.getByRole('region', { name: 'Remediation' }).innerText()).resolves.toMatch(
      /Upgrade|No fixed version/,
    );
    await page.getByLabel('Triage state').selectOption('accepted_risk');
    await page.getByLabel('Reason (required unless open)').fill('not reachable from prod');
    await page.getByRole('button', { name: 'Save triage' }).click();
    await page.getByTestId('triage-state').getByText('accepted_risk').waitFor();
    expect(await axeSerious(page)).toEqual([]);
    await open(page, s.origin, '/findings?triage=accepted_risk', 'Findings');
    expect(await table.getByRole('link', { name: title }).count()).toBeGreaterThan(0);
  }, 60_000);

  it('opens a finding by deep link with one request to its route, and an unknown id says so', async () => {
    const [listed] = (
      await call<{ items: Array<{ id: string; title: string }> }>(s.origin, s.adminKey, 'GET', '/v1/findings')
    ).items;
    const findingRequests: string[] = [];
    const listen = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/v1/findings')) findingRequests.push(url.pathname + url.search);
    };
    page.on('request', listen);
    try {
      await open(page, s.origin, `/findings/${listed.id}`, listed.title);
      expect(findingRequests).toEqual([`/v1/findings/${listed.id}`]);
      await page.goto(`${s.origin}/findings/f_${'0'.repeat(24)}`);
      await page.getByText(`No finding f_${'0'.repeat(24)} in this tenant.`).waitFor({ timeout: 15_000 });
    } finally {
      page.off('request', listen);
    }
  }, 60_000);

  it('charts 30 days of runtime decisions and open findings on the overview, older days included', async () => {
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    const threeDaysAgo = new Date(Date.parse(day(3)) + 12 * 3_600_000).toISOString();
    await call(s.origin, s.proxyKey, 'POST', '/v1/proxy/audit', {
      source_id: 'laptop-alice:proxy',
      events: [
        auditEvent({ type: 'tool_call.warned', timestamp: threeDaysAgo }),
        auditEvent({ type: 'tool_call.warned', timestamp: threeDaysAgo }),
      ],
    });
    const api = await call<AuditTrendsView>(s.origin, s.adminKey, 'GET', '/v1/audit/trends?days=30');
    await open(page, s.origin, '/', 'Overview');
    const section = page.getByRole('region', { name: 'Last 30 days' });
    const chart = section.getByRole('img', { name: /Runtime decisions per day/ });
    await expect(chart.getAttribute('aria-label')).resolves.toBe(
      `Runtime decisions per day from ${day(29)} to ${day(0)}: ${api.series.reduce((n, d) => n + d.total, 0)} in all`,
    );
    expect(await chart.locator('g[data-day]').count()).toBe(30);
    expect(await chart.locator(`g[data-day="${day(3)}"] rect.trend-warn`).count()).toBe(1);
    expect(await chart.locator(`g[data-day="${day(2)}"] rect:not(.trend-day)`).count()).toBe(0);
    await section.getByText('Numbers per day').click();
    const row = async (n: number) =>
      (await section.getByRole('row', { name: new RegExp(`^${day(n)}`) }).innerText()).split(/\s+/);
    const open_ = api.series[29].open_findings;
    expect(open_).toBeGreaterThan(0);
    // day, allow, deny, warn, redact, block, total, open findings
    expect(await row(0)).toEqual([day(0), '1', '2', '0', '0', '0', '3', String(open_)]);
    expect(await row(3)).toEqual([day(3), '0', '0', '2', '0', '0', '2', '0']);
    // the 24-hour sparkline stays
    await expect(page.getByRole('img', { name: /runtime decisions per hour/ }).count()).resolves.toBe(1);
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it('filters findings by every kind and severity the API takes', async () => {
    await open(page, s.origin, '/findings?kind=tool_drift', 'Findings');
    const options = (label: string) => page.getByLabel(label).locator('option').allTextContents();
    await expect(options('Kind')).resolves.toEqual(['any', ...FINDING_KINDS]);
    await expect(options('Severity')).resolves.toEqual(['any', ...[...SCAN_SEVERITIES].reverse()]);
    await expect(page.getByLabel('Kind').inputValue()).resolves.toBe('tool_drift');
  }, 60_000);

  it('draws a blast radius from /v1/graph/impact alone: its nodes, typed by group, and its edges', async () => {
    const get = async <T>(path: string) =>
      (await (
        await fetch(`${s.origin}${path}`, { headers: { authorization: `Bearer ${s.adminKey}` } })
      ).json()) as T;
    const [vuln] = (await get<GraphPageView>('/v1/graph?type=vulnerability&limit=1')).nodes;
    const impact = await get<GraphImpactView>(`/v1/graph/impact?node=${encodeURIComponent(vuln.id)}`);
    const fetched: string[] = [];
    const watch = (request: { url(): string }) => void fetched.push(new URL(request.url()).pathname);
    page.on('request', watch);
    await open(page, s.origin, `/graph?node=${encodeURIComponent(vuln.id)}`, 'Graph explorer');
    const graph = page.getByRole('img', { name: /^Graph of/ });
    await graph.waitFor({ timeout: 15_000 });
    page.off('request', watch);
    const counts = impact.counts;
    const kinds = ['1 vulnerability']; // the asked node, then the answer's groups in order
    for (const group of IMPACT_GROUPS)
      if (counts[group] && group !== 'vulnerabilities')
        kinds.push(`${counts[group]} ${IMPACT_GROUP_TYPES[group]}`);
    const total = 1 + Object.values(counts).reduce((a, b) => a + b, 0);
    expect(impact.edges.length).toBeGreaterThan(0);
    expect(await graph.getAttribute('aria-label')).toBe(
      `Graph of ${total} nodes (${kinds.join(', ')}) and ${impact.edges.length} edges`,
    );
    expect(fetched).not.toContain('/v1/graph'); // no whole-graph fetch to join edges
  }, 60_000);

  it('renders hostile names, tools, URLs and args as inert text: no script runs and no request leaves', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    for (const [path, heading] of [
      ['/fleet?q=mallory', 'Fleet'],
      ['/servers', 'MCP servers'],
      ['/servers?tab=upstreams', 'MCP servers'],
      ['/runtime', 'Runtime decisions'],
      ['/audit?origin=runtime', 'Audit'],
    ] as const) {
      await open(page, s.origin, path, heading);
    }
    await open(page, s.origin, '/fleet?q=mallory', 'Fleet');
    await page.getByRole('link', { name: 'cursor' }).click();
    await page.getByRole('heading', { level: 1, name: /cursor/ }).waitFor();
    await page.waitForLoadState('networkidle');
    // the payloads are on screen, as text
    await expect(page.getByText(HOSTILE.serverName, { exact: false }).count()).resolves.toBeGreaterThan(0);
    await expect(page.getByText(HOSTILE.toolName).count()).resolves.toBeGreaterThan(0);
    // the server stores the URL normalised (percent-encoded), the console shows exactly that
    await expect(page.getByText(new URL(HOSTILE.url).href).count()).resolves.toBeGreaterThan(0);
    const dom = await page.evaluate(`({
      pwned: window.__pwned,
      injected: document.querySelectorAll('main img, main script, main svg[onload], main iframe, main [onerror], main [onmouseover]').length,
    })`);
    expect(dom).toEqual({ pwned: undefined, injected: 0 });
    expect(dialogs).toEqual([]);
    expect(egress).toEqual([]);
  }, 60_000);

  it('creates a policy, refuses a schema error inline, dry-runs it and keeps its versions with a diff', async () => {
    await open(page, s.origin, '/policies/new', 'New policy');
    await page.getByLabel('Name').fill('no-shell');
    const editor = page.getByLabel('Policy document (JSON, libs/policy schema)');
    await editor.fill('{"version": 1, "rules": [{"id": "shell", "effect": "explode"}]}');
    await page.getByRole('list', { name: 'Schema problems' }).waitFor();
    await expect(page.getByRole('button', { name: 'Create policy' }).isDisabled()).resolves.toBe(true);
    await editor.fill(
      JSON.stringify({ version: 1, rules: [{ id: 'shell', effect: 'deny', tools: ['run_shell'] }] }),
    );
    await page.getByTestId('schema-ok').waitFor();
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByTestId('policy-version').getByText('version 1').waitFor();

    await page.getByLabel('Tool').fill('run_shell');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await expect(page.getByTestId('dry-run-result').innerText()).resolves.toMatch(
      /deny[\s\S]*no-shell\/shell/,
    );

    await page
      .getByLabel('Policy document (JSON, libs/policy schema)')
      .fill(
        JSON.stringify(
          { version: 1, rules: [{ id: 'shell', effect: 'deny', tools: ['run_shell', 'bash'] }] },
          null,
          2,
        ),
      );
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByTestId('policy-version').getByText('version 2').waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByTestId('policy-version').getByText('version 3').waitFor();
    await page.getByRole('button', { name: 'v2' }).click();
    const diff = page.getByLabel('Changes between versions');
    await expect(diff.innerText()).resolves.toMatch(/\+\s+"bash"/);
    expect(await axeSerious(page)).toEqual([]);

    // the server's compile check is shown inline too
    await page.getByLabel('Policy document (JSON, libs/policy schema)').fill(
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'a', effect: 'deny', tools: ['x'] },
          { id: 'a', effect: 'deny', tools: ['y'] },
        ],
      }),
    );
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('list', { name: 'Server refused the policy' }).waitFor();
  }, 90_000);

  it('verifies the audit chain and downloads the signed export', async () => {
    await open(page, s.origin, '/audit', 'Audit');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect(page.getByTestId('verify-result').innerText()).resolves.toContain('chain intact');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download signed export' }).click(),
    ]);
    const file = await download.path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string });
    expect(lines[0]!.kind).toBe('header');
    expect(lines.some((line) => line.kind === 'entry')).toBe(true);
    // an entry's detail by deep link
    await open(page, s.origin, '/audit?seq=1', 'Audit');
    await expect(page.getByTestId('audit-detail').innerText()).resolves.toContain('tenant.created');
  }, 60_000);

  it('creates a key shown once, and revoking a key ends the sessions made with it', async () => {
    await open(page, s.origin, '/keys', 'Keys and sessions');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByLabel('Name').fill('ops-laptop');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const raw = (await page.getByTestId('raw-key').innerText()).trim();
    expect(raw).toMatch(/^abom_/);
    await page.keyboard.press('Escape');
    expect(await page.getByText(raw).count()).toBe(0);

    const other = await browser.newContext();
    const victim = await signIn(other, s.origin, raw);
    await open(victim, s.origin, '/policies', 'Policies');

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Keys and sessions' }).waitFor();
    await page.getByRole('button', { name: 'Revoke ops-laptop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
    // the modal hides the page from the accessibility tree while open: wait for it to close, then for the row
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Revoke ops-laptop' }).waitFor({ state: 'detached' });

    const keys = (await (
      await fetch(`${s.origin}/v1/auth/keys`, { headers: { authorization: `Bearer ${s.adminKey}` } })
    ).json()) as { items: { name: string; status: string; revoked_at: string | null }[] };
    expect(keys.items.filter((k) => k.name === 'ops-laptop').map((k) => k.status)).toEqual(['revoked']);
    const status = await victim.evaluate(async () => {
      const r = await fetch('/v1/auth/me');
      return `${r.status} ${await r.text()}`;
    });
    expect(status).toMatch(/^401 /);
    await victim.goto(`${s.origin}/fleet`);
    await victim.getByLabel('API key', { exact: true }).waitFor({ timeout: 15_000 });
    await other.close();
  }, 90_000);

  describe('a viewer', () => {
    let viewer: BrowserContext;
    let vpage: Page;
    beforeAll(async () => {
      viewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      vpage = await signIn(viewer, s.origin, s.viewerKey);
    }, 60_000);
    afterAll(async () => viewer?.close());

    it('sees no write action on any screen', async () => {
      const writes =
        /^(New policy|Create|Create key|Create policy|Save new version|Enable|Disable|Rotate|Revoke|Create tenant|Mark )/;
      const seen: Record<string, string[]> = {};
      for (const [path, heading] of [
        ...SCREENS.filter(([p]) => p !== '/policies/new'),
        ['/policies', 'Policies'] as const,
      ]) {
        await open(vpage, s.origin, path, heading);
        const names = [
          ...(await vpage.getByRole('button').allInnerTexts()),
          ...(await vpage.getByRole('link').allInnerTexts()),
        ].filter((name) => writes.test(name.trim()));
        if (names.length) seen[path] = names;
      }
      await open(vpage, s.origin, '/policies', 'Policies');
      await vpage.getByRole('link', { name: 'no-shell' }).click();
      await vpage.getByTestId('policy-version').waitFor();
      const editor = vpage.getByLabel('Policy document (JSON, libs/policy schema)');
      await expect(editor.getAttribute('readonly')).resolves.not.toBeNull();
      const buttons = (await vpage.getByRole('button').allInnerTexts()).filter((name) =>
        writes.test(name.trim()),
      );
      if (buttons.length) seen['/policies/:id'] = buttons;
      expect(seen).toEqual({});
    }, 120_000);

    it('cannot write by crafting requests, with or without the CSRF token', async () => {
      const answers = await vpage.evaluate(async () => {
        const me = (await (await fetch('/v1/auth/me')).json()) as { csrf_token: string };
        const post = (path: string, body: unknown, csrf?: string) =>
          fetch(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
            body: JSON.stringify(body),
          }).then(
            async (r) => [r.status, ((await r.json()) as { error?: { code?: string } }).error?.code] as const,
          );
        const policy = { name: 'sneaky', document: { version: 1, rules: [] } };
        return {
          policyWithCsrf: await post('/v1/gateway/policies', policy, me.csrf_token),
          policyNoCsrf: await post('/v1/gateway/policies', policy),
          keyWithCsrf: await post('/v1/auth/keys', { role: 'admin' }, me.csrf_token),
          tenantWithCsrf: await post('/v1/tenants', { id: 'sneaky' }, me.csrf_token),
        };
      });
      expect(answers.policyWithCsrf[0]).toBe(403);
      expect(answers.policyNoCsrf).toEqual([403, 'CSRF_TOKEN_INVALID']);
      expect(answers.keyWithCsrf[0]).toBe(403);
      expect(answers.tenantWithCsrf[0]).toBe(403);
    });
  });

  it('keeps a 2,000-agent fleet virtualised: server-side pages, few rows in the DOM, the last row reachable', async () => {
    const created = await fetch(`${s.origin}/v1/auth/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'fleet-push', name: 'bulk' }),
    });
    const pushKey = ((await created.json()) as { raw_key: string }).raw_key;
    for (let batch = 0; batch < 4; batch++) {
      const agents = Array.from({ length: 500 }, (_, i) => ({
        name: `bulk-${String(batch * 500 + i).padStart(4, '0')}`,
        client: 'codex',
        servers: [
          {
            name: 'git',
            transport: 'stdio',
            command: 'uvx',
            auth_mode: 'none',
            config_path: '/etc/codex.toml',
          },
        ],
      }));
      const res = await fetch(`${s.origin}/v1/fleet/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pushKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ source_id: `bulk-${batch}`, agents }),
      });
      expect(res.status).toBe(200);
    }
    await open(page, s.origin, '/fleet?client=codex', 'Fleet');
    for (let loaded = 200; loaded < 2000; loaded += 200) {
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.getByText(`${loaded + 200} rows loaded`).waitFor();
    }
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const table = page.getByRole('region', { name: 'Fleet agents table' });
    expect(await table.locator('tbody tr').count()).toBeLessThan(80);
    await table.getByRole('button', { name: 'Agent' }).click(); // sort the loaded rows by name, ascending
    await page.getByRole('link', { name: 'bulk-0000' }).waitFor();
    await table.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await page.getByRole('link', { name: 'bulk-1999' }).waitFor();
    expect(await table.locator('tbody tr').count()).toBeLessThan(80);
  }, 90_000);
});
