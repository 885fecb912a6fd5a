import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli, startServer, type Server } from '../helpers/processes.js';
import { OSV_FIXTURES } from '../scans/fixture.js';

/**
 * Issue 12 item 9 with real processes only: discovery aggregates the remote servers of stored scan results
 * (seed 001: "other scan results stored in the tenant's job history") beside fleet-reported ones. A real
 * `agent-bom scan --push-url` and a real `agent-bom agents --push-url` feed `agent-bom api` on PostgreSQL; the
 * discovery answer is read back over HTTP. Same stable-name rule, same approval, one entry per (name, URL)
 * whoever reported it, and tenant B's scans never reach tenant A.
 */
const JIRA = 'https://mcp.example.internal/jira/sse';
const JIRA_EU = 'https://jira.eu.example.com/mcp';
const WIKI = 'https://wiki.example.com/mcp';
const BETA_ONLY = 'https://beta-only.example.net/mcp';
const PLANTED = 'planted-scan-secret-5d1e';

describe('agent-bom scan → discovery of remote servers from stored scan results', () => {
  let db: TestDatabase;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let server: Server;
  const keys: Record<string, string> = {};

  const home = (name: string) => path.join(root, name);
  async function put(file: string, content: object) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(content, null, 2));
  }
  const request = async (method: string, url: string, key: string, body?: object) => {
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, text: await res.text() };
  };
  const discovered = async (tenant: string) => {
    const res = await request('GET', '/v1/gateway/upstreams/discovered', keys[`${tenant}:gateway`]);
    expect(res.status).toBe(200);
    return JSON.parse(res.text);
  };
  const scan = (homeName: string, tenant: string, sourceId: string, hostname: string) =>
    runCli(
      [
        'scan',
        ...['--home', home(homeName), '--os', 'linux', '--project', path.join(root, 'empty-project')],
        ...[
          '--advisories',
          OSV_FIXTURES,
          '--format',
          'json',
          '--output',
          path.join(root, `${sourceId}.json`),
        ],
        ...['--push-url', server.url, '--push-api-key', keys[`${tenant}:fleet-push`]],
        ...['--source-id', sourceId, '--hostname', hostname],
      ],
      env,
      90_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-scan-discovery-'));
    await fs.mkdir(path.join(root, 'empty-project'));
    env = {
      ...process.env,
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
      XDG_CONFIG_HOME: path.join(root, 'config'),
    };
    delete env.NODE_OPTIONS;
    server = await startServer(['--port', '0'], { ...env, DATABASE_URL: db.url });
    const cli = { ...env, DATABASE_URL: db.url };
    for (const tenant of ['tenant-alpha', 'tenant-beta']) {
      expect((await runCli(['tenants', 'create', tenant], cli)).code).toBe(0);
      for (const role of ['fleet-push', 'gateway', 'admin']) {
        const created = await runCli(['keys', 'create', '--tenant', tenant, '--role', role], cli);
        expect(created.code).toBe(0);
        keys[`${tenant}:${role}`] = created.stdout.trim();
      }
    }
    // A laptop whose fleet sync reports jira over SSE.
    await put(path.join(home('mac'), '.config/Claude/claude_desktop_config.json'), {
      mcpServers: { jira: { url: JIRA } },
    });
    // A CI runner that only scans: the same jira (credential in a header), a wiki nobody's fleet reports, a
    // second jira at another URL, and a stdio server that discovery must never return.
    await put(path.join(home('ci'), '.config/Claude/claude_desktop_config.json'), {
      mcpServers: {
        jira: { url: JIRA, headers: { Authorization: `Bearer ${PLANTED}` } },
        wiki: { url: WIKI },
        filesystem: {
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem@2025.1.14', '/tmp'],
        },
      },
    });
    await put(path.join(home('ci'), '.cursor/mcp.json'), { mcpServers: { jira: { url: JIRA_EU } } });
    // The same runner after the wiki was removed from its config.
    await put(path.join(home('ci-later'), '.config/Claude/claude_desktop_config.json'), {
      mcpServers: { jira: { url: JIRA } },
    });
    // Tenant beta's scanner, with a server of its own and the same wiki URL.
    await put(path.join(home('beta'), '.cursor/mcp.json'), {
      mcpServers: { secret: { url: BETA_ONLY }, wiki: { url: WIKI } },
    });
  }, 180_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await fs.rm(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('a scanned remote server is discovered under its stable name, merged with the fleet report of the same URL', async () => {
    const synced = await runCli(
      [
        'agents',
        ...['--home', home('mac'), '--os', 'linux', '--project', path.join(root, 'empty-project')],
        ...['--push-url', server.url, '--push-api-key', keys['tenant-alpha:fleet-push']],
        ...['--source-id', 'mac-1', '--hostname', 'mac-laptop-1', '--json'],
      ],
      env,
      90_000,
    );
    expect({ code: synced.code, stderr: synced.stderr }).toEqual({ code: 0, stderr: expect.any(String) });

    const run = await scan('ci', 'tenant-alpha', 'ci-runner-1', 'ci-runner-1');
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('pushed scan'),
    });
    expect(run.stdout + run.stderr).not.toContain(PLANTED);

    const body = await discovered('tenant-alpha');
    expect(body).toEqual({
      tenant_id: 'tenant-alpha',
      source: 'fleet_scan_aggregate',
      generated_at: expect.any(String),
      upstreams: [
        {
          name: 'jira',
          url: JIRA,
          transport: 'sse',
          auth: 'none',
          source_agents: ['ci-runner-1', 'mac-laptop-1'],
          source_agent_count: 2,
          approval: 'pending',
        },
        {
          name: 'jira-1',
          url: JIRA_EU,
          transport: 'https',
          auth: 'none',
          source_agents: ['ci-runner-1'],
          source_agent_count: 1,
          approval: 'pending',
        },
        {
          name: 'wiki',
          url: WIKI,
          transport: 'https',
          auth: 'none',
          source_agents: ['ci-runner-1'],
          source_agent_count: 1,
          approval: 'pending',
        },
      ],
      conflicts: [
        {
          name: 'jira',
          upstreams: [
            { name: 'jira', url: JIRA },
            { name: 'jira-1', url: JIRA_EU },
          ],
        },
      ],
    });
    expect(JSON.stringify(await db.dataSource.query(`SELECT * FROM scan_upstreams`))).not.toContain(PLANTED);
  }, 240_000);

  it('a scan-discovered name takes the same approval as a fleet-reported one', async () => {
    const put = await request('PUT', '/v1/gateway/upstreams/wiki/approval', keys['tenant-alpha:admin'], {
      state: 'approved',
      reason: 'reviewed',
    });
    expect(put.status).toBe(200);
    const body = await discovered('tenant-alpha');
    expect(body.upstreams.find((u: { name: string }) => u.name === 'wiki')).toMatchObject({
      url: WIKI,
      approval: 'approved',
    });
  });

  it("cross-tenant: tenant-beta's scans never appear in tenant-alpha's discovery, nor its approvals", async () => {
    const run = await scan('beta', 'tenant-beta', 'beta-runner', 'beta-runner');
    expect(run.code).toBe(0);
    const beta = await discovered('tenant-beta');
    expect(beta.upstreams.map((u: { name: string; approval: string }) => [u.name, u.approval])).toEqual([
      ['secret', 'pending'],
      // The same URL as tenant-alpha's approved wiki: alpha's approval does not carry over.
      ['wiki', 'pending'],
    ]);
    expect(beta.upstreams.flatMap((u: { source_agents: string[] }) => u.source_agents)).not.toContain(
      'ci-runner-1',
    );

    const alpha = await discovered('tenant-alpha');
    expect(JSON.stringify(alpha)).not.toContain(BETA_ONLY);
    expect(JSON.stringify(alpha)).not.toContain('beta-runner');
    expect(alpha.upstreams.map((u: { name: string }) => u.name)).toEqual(['jira', 'jira-1', 'wiki']);
    // Tenant-alpha's admin cannot even learn that beta's name exists.
    const foreign = await request(
      'PUT',
      '/v1/gateway/upstreams/secret/approval',
      keys['tenant-alpha:admin'],
      { state: 'approved' },
    );
    expect(foreign.status).toBe(404);
  }, 120_000);

  it("a source's newest scan is its current view: a server removed from the config leaves discovery, its name stays reserved", async () => {
    const run = await scan('ci-later', 'tenant-alpha', 'ci-runner-1', 'ci-runner-1');
    expect(run.code).toBe(0);
    const body = await discovered('tenant-alpha');
    expect(
      body.upstreams.map((u: { name: string; source_agents: string[] }) => [u.name, u.source_agents]),
    ).toEqual([['jira', ['ci-runner-1', 'mac-laptop-1']]]);
    expect(body.conflicts).toEqual([]);
    // Reported again later, the wiki comes back under the same name, with its approval.
    expect((await scan('ci', 'tenant-alpha', 'ci-runner-1', 'ci-runner-1')).code).toBe(0);
    const again = await discovered('tenant-alpha');
    expect(again.upstreams.find((u: { name: string }) => u.name === 'wiki')).toMatchObject({
      url: WIKI,
      approval: 'approved',
    });
  }, 180_000);
});
