import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import {
  UPSTREAM_NAME,
  upstreamName,
  type ApprovalView,
  type DiscoveryAnswer,
} from '../../libs/contracts/src/index.js';
import type { TestApp } from '../helpers/app.js';
import { axeSerious, open, signIn } from './console-helpers.js';
import { HOSTILE, call, type Seeded } from './seed.js';
import { startSeededConsole } from './setup.js';

const HOSTILE_URL = 'https://evil.example/x?<script>window.__pwned=9</script>';
const UPSTREAMS = '/servers?tab=upstreams';

/**
 * Upstream approval from the console's discovered-upstreams tab, in headless Chromium against a real control
 * plane: an admin's decisions land in the API, a refusal shows the API's message, other roles see the state only,
 * and a hostile upstream URL stays text (discovery turns a hostile server name into a routable one).
 */
describe('console: approving discovered upstreams', () => {
  let t: TestApp;
  let browser: Browser;
  let s: Seeded;
  let analystKey: string;
  let page: Page;
  let egress: string[];

  const approval = (name: string) =>
    call<ApprovalView>(
      s.origin,
      s.adminKey,
      'GET',
      `/v1/gateway/upstreams/${encodeURIComponent(name)}/approval`,
    );
  const discovered = async (url: string) => {
    const answer = await call<DiscoveryAnswer>(
      s.origin,
      s.adminKey,
      'GET',
      '/v1/gateway/upstreams/discovered',
    );
    const upstream = answer.upstreams.find((u) => u.url === new URL(url).href);
    if (!upstream) throw new Error(`${url} not discovered: ${JSON.stringify(answer.upstreams)}`);
    return upstream;
  };
  /** Opens the decision dialog of one upstream and waits for its current decision. */
  const dialogFor = async (name: string) => {
    await open(page, s.origin, UPSTREAMS, 'MCP servers');
    await page.getByRole('button', { name: `Set approval of ${name}`, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Approval of ${name}`, exact: true });
    await dialog.getByTestId('approval-current').waitFor();
    return dialog;
  };

  beforeAll(async () => {
    ({ t, s, browser, page, egress } = await startSeededConsole({
      env: { AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '0' },
    }));
    const origin = s.origin;
    const key = async (role: string) =>
      (await call<{ raw_key: string }>(origin, s.adminKey, 'POST', '/v1/auth/keys', { role, name: role }))
        .raw_key;
    analystKey = await key('analyst');
    await call(origin, await key('fleet-push'), 'POST', '/v1/fleet/sync', {
      source_id: 'laptop-eve',
      endpoint: { hostname: 'eve-pc', os: 'linux' },
      agents: [
        {
          name: 'cursor',
          client: 'cursor',
          servers: [
            {
              name: HOSTILE.serverName,
              transport: 'https',
              url: HOSTILE_URL,
              auth_mode: 'none',
              config_path: '/home/eve/.cursor/mcp.json',
            },
          ],
        },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('approves a pending upstream, then blocks it with a reason and returns it to pending, as the API reports', async () => {
    const { name } = await discovered('https://mcp.linear.app/mcp');
    await expect(approval(name)).resolves.toMatchObject({ state: 'pending', decided_by: null });

    let dialog = await dialogFor(name);
    await expect(dialog.getByTestId('approval-current').innerText()).resolves.toContain('pending');
    await expect(axeSerious(page)).resolves.toEqual([]);
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(approval(name)).resolves.toMatchObject({
      state: 'approved',
      reason: null,
      decided_by: 'key:console-admin',
    });
    await expect(discovered('https://mcp.linear.app/mcp')).resolves.toMatchObject({ approval: 'approved' });
    const table = page.getByRole('region', { name: 'Discovered upstreams table' });
    await table.getByRole('row').filter({ hasText: name }).getByText('approved').first().waitFor();

    dialog = await dialogFor(name);
    await dialog.getByLabel(/^Reason/).fill('  sends ticket bodies to a third party  ');
    await dialog.getByRole('button', { name: 'Block', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(approval(name)).resolves.toMatchObject({
      state: 'blocked',
      reason: 'sends ticket bodies to a third party',
    });

    dialog = await dialogFor(name);
    await expect(dialog.getByTestId('approval-current').innerText()).resolves.toContain(
      'sends ticket bodies to a third party',
    );
    await dialog.getByRole('button', { name: 'Back to pending', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(approval(name)).resolves.toMatchObject({ state: 'pending', reason: null });
  }, 60_000);

  it("shows the API's message when it refuses a decision, and changes nothing", async () => {
    const { name } = await discovered('https://mcp.linear.app/mcp');
    const before = await approval(name);
    const dialog = await dialogFor(name);
    await dialog.getByLabel(/^Reason/).fill('x'.repeat(501));
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    await expect(alert.innerText()).resolves.toMatch(/reason.*500/i);
    await expect(approval(name)).resolves.toEqual(before);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  }, 60_000);

  it('lists the auto-approve hosts for an admin', async () => {
    await call(s.origin, s.adminKey, 'PUT', '/v1/gateway/upstreams/auto-approve', {
      hosts: ['*.corp.example'],
    });
    await open(page, s.origin, UPSTREAMS, 'MCP servers');
    const section = page.getByRole('region', { name: 'Auto-approve hosts' });
    await expect(section.getByText('*.corp.example', { exact: true }).count()).resolves.toBe(1);
  }, 60_000);

  it('an admin edits the auto-approve list: canonical hosts added, a bad one refused with the API message, one removed; each change audited', async () => {
    const hosts = async () =>
      (await call<{ hosts: string[] }>(s.origin, s.adminKey, 'GET', '/v1/gateway/upstreams/auto-approve'))
        .hosts;
    const audited = async () =>
      (
        await call<{ items: Array<{ details: { hosts: string[] } }> }>(
          s.origin,
          s.adminKey,
          'GET',
          '/v1/audit?type=gateway.auto_approve_set&limit=200',
        )
      ).items.length;
    const before = await hosts();
    expect(before).toEqual(['*.corp.example']);
    const auditedBefore = await audited();
    await open(page, s.origin, UPSTREAMS, 'MCP servers');
    const section = page.getByRole('region', { name: 'Auto-approve hosts' });
    // added as typed, stored and shown as the API canonicalised it
    await section.getByLabel('Host to auto-approve').fill('  MCP.Example.COM. ');
    await section.getByRole('button', { name: 'Add host' }).click();
    await section.getByText('mcp.example.com', { exact: true }).waitFor();
    await expect(hosts()).resolves.toEqual(['*.corp.example', 'mcp.example.com']);
    await expect(section.getByLabel('Host to auto-approve').inputValue()).resolves.toBe('');
    // a URL is not a host: the API's 400 is shown, nothing changes
    await section.getByLabel('Host to auto-approve').fill('https://evil.example/<b>x</b>');
    await section.getByRole('button', { name: 'Add host' }).click();
    await expect(section.getByRole('alert').innerText()).resolves.toContain('must be a host name');
    await expect(hosts()).resolves.toEqual(['*.corp.example', 'mcp.example.com']);
    await expect(section.locator('b').count()).resolves.toBe(0);
    // a host already listed is not sent twice
    await section.getByLabel('Host to auto-approve').fill('*.CORP.example');
    await section.getByRole('button', { name: 'Add host' }).click();
    await expect(section.getByRole('alert').innerText()).resolves.toContain('already');
    // removed
    await section.getByRole('button', { name: 'Remove *.corp.example' }).click();
    await section.getByText('*.corp.example', { exact: true }).waitFor({ state: 'detached' });
    await expect(hosts()).resolves.toEqual(['mcp.example.com']);
    await expect(audited()).resolves.toBe(auditedBefore + 2);
    expect(await axeSerious(page)).toEqual([]);
    await call(s.origin, s.adminKey, 'PUT', '/v1/gateway/upstreams/auto-approve', { hosts: before });
  }, 60_000);

  it('names each conflict and its URLs as text, not as JSON', async () => {
    const { conflicts } = await call<DiscoveryAnswer>(
      s.origin,
      s.adminKey,
      'GET',
      '/v1/gateway/upstreams/discovered',
    );
    expect(conflicts.length).toBeGreaterThan(0); // the seed reports two URLs under one name
    await open(page, s.origin, UPSTREAMS, 'MCP servers');
    const text = await page.getByRole('region', { name: /^Conflicts/ }).innerText();
    for (const conflict of conflicts) {
      expect(text).toContain(`${conflict.name} is reported for ${conflict.upstreams.length} URLs`);
      for (const u of conflict.upstreams) expect(text).toContain(`${u.name} → ${u.url}`);
    }
    expect(text).not.toContain('{"name"');
  }, 60_000);

  it('renders a hostile upstream URL as text, and approves the routable name discovery gave the hostile server name', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const upstream = await discovered(HOSTILE_URL);
    expect(upstream.name).toBe(upstreamName(HOSTILE.serverName));
    expect(upstream.name).toMatch(UPSTREAM_NAME);
    const dialog = await dialogFor(upstream.name);
    await expect(dialog.getByText(upstream.url, { exact: true }).count()).resolves.toBe(1);
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(approval(upstream.name)).resolves.toMatchObject({ state: 'approved' });
    await expect(
      page.getByRole('region', { name: 'Discovered upstreams table' }).getByText(upstream.name).count(),
    ).resolves.toBe(1);
    const dom = await page.evaluate(`({
      pwned: window.__pwned,
      injected: document.querySelectorAll('img, script:not([src]), svg[onload], iframe, [onerror], [onmouseover]').length,
    })`);
    expect(dom).toEqual({ pwned: undefined, injected: 0 });
    expect(dialogs).toEqual([]);
    expect(egress).toEqual([]);
  }, 60_000);

  for (const role of ['viewer', 'analyst'] as const) {
    it(`shows the ${role} role the approval state without any action, and the API refuses a crafted one`, async () => {
      // One approved upstream for the badge, whatever the tests before this one did.
      const { name: approvedName } = await discovered(HOSTILE_URL);
      await call(
        s.origin,
        s.adminKey,
        'PUT',
        `/v1/gateway/upstreams/${encodeURIComponent(approvedName)}/approval`,
        {
          state: 'approved',
        },
      );
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const other = await signIn(context, s.origin, role === 'viewer' ? s.viewerKey : analystKey);
      await open(other, s.origin, UPSTREAMS, 'MCP servers');
      const table = other.getByRole('region', { name: 'Discovered upstreams table' });
      await expect(table.getByText('approved', { exact: true }).count()).resolves.toBeGreaterThan(0);
      await expect(table.getByText('pending', { exact: true }).count()).resolves.toBeGreaterThan(0);
      const buttons = await other.getByRole('button').allInnerTexts();
      expect(buttons.filter((b) => /^(Set approval|Approve|Block|Back to pending)$/.test(b.trim()))).toEqual(
        [],
      );
      await expect(other.getByRole('region', { name: 'Auto-approve hosts' }).count()).resolves.toBe(0);
      await expect(axeSerious(other)).resolves.toEqual([]);
      const { name } = await discovered('https://mcp.linear.app/mcp');
      const answer = await other.evaluate(
        async (path) => {
          const me = (await (await fetch('/v1/auth/me')).json()) as { csrf_token: string };
          const r = await fetch(path, {
            method: 'PUT',
            headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token },
            body: JSON.stringify({ state: 'approved' }),
          });
          return r.status;
        },
        `/v1/gateway/upstreams/${encodeURIComponent(name)}/approval`,
      );
      expect(answer).toBe(403);
      await expect(approval(name)).resolves.toMatchObject({ state: 'pending' });
      await context.close();
    }, 60_000);
  }
});
