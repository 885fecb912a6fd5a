import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { runCli, startServer, type Server } from '../helpers/processes.js';

/**
 * Issue 3's acceptance, with real processes only: `agent-bom api` on PostgreSQL, keys from the CLI, real MCP
 * servers (server-everything over stdio from npm, an SDK server over legacy SSE and streamable HTTP on
 * loopback), and `agent-bom agents --introspect --push-url` run on fixture homes of four "laptops". Then the
 * fleet and the discovery endpoint are read back over HTTP, and the seed's example must come back exactly.
 */
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const PLANTED = 'planted-secret-value-7f3a';

describe('agents → fleet sync → fleet inventory and gateway discovery', () => {
  let db: TestDatabase;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let server: Server;
  let jira: HttpMcpServer;
  let otherJira: HttpMcpServer;
  const keys: Record<string, string> = {};

  const home = (name: string) => path.join(root, name);
  async function put(file: string, content: object) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(content, null, 2));
  }
  const api = async (url: string, key: string) => {
    const res = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };
  const agents = (homeName: string, hostname: string, sourceId: string, key: string) =>
    runCli(
      [
        'agents',
        ...['--home', home(homeName), '--os', 'linux', '--project', path.join(root, 'empty-project')],
        ...['--introspect', '--timeout', '20', '--push-url', server.url, '--push-api-key', key],
        ...['--source-id', sourceId, '--hostname', hostname, '--json'],
      ],
      env,
      90_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-fleet-e2e-'));
    await fs.mkdir(path.join(root, 'empty-project'));
    // Endpoint credentials go to the run's own directory, never the developer's ~/.config.
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      XDG_CONFIG_HOME: path.join(root, 'config'),
    };
    server = await startServer(['--port', '0'], env);
    for (const tenant of ['tenant-alpha', 'tenant-stdio']) {
      expect((await runCli(['tenants', 'create', tenant], env)).code).toBe(0);
      for (const role of ['fleet-push', 'gateway', 'viewer']) {
        const created = await runCli(['keys', 'create', '--tenant', tenant, '--role', role], env);
        expect(created.code).toBe(0);
        keys[`${tenant}:${role}`] = created.stdout.trim();
      }
    }
    jira = await startHttpMcpServer({ tools: ['search_issues', 'create_issue'], name: 'jira' });
    otherJira = await startHttpMcpServer({ tools: ['search_issues'], name: 'jira-eu' });

    // mac-laptop-1: Claude Desktop with a stdio server from npm and jira over SSE.
    await put(path.join(home('mac'), '.config/Claude/claude_desktop_config.json'), {
      mcpServers: {
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
        jira: { url: `${jira.url}/sse` },
      },
    });
    // windows-laptop-3: Cursor with the same jira, authenticated by a header whose value must go nowhere.
    await put(path.join(home('win'), '.cursor/mcp.json'), {
      mcpServers: { jira: { url: `${jira.url}/sse`, headers: { Authorization: `Bearer ${PLANTED}` } } },
    });
    // linux-box-9: a second jira at another URL (streamable HTTP).
    await put(path.join(home('linux'), '.cursor/mcp.json'), {
      mcpServers: { jira: { url: `${otherJira.url}/mcp` } },
    });
    // A tenant whose endpoint has only stdio servers.
    await put(path.join(home('stdio'), '.config/Claude/claude_desktop_config.json'), {
      mcpServers: {
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'], env: { API_TOKEN: PLANTED } },
      },
    });
  }, 120_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await jira?.close();
    await otherJira?.close();
    await fs.rm(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('two laptops report jira over SSE: discovery answers exactly as the seed shows', async () => {
    for (const [dir, hostname, source] of [
      ['mac', 'mac-laptop-1', 'mac-1'],
      ['win', 'windows-laptop-3', 'win-3'],
    ]) {
      const run = await agents(dir, hostname, source, keys['tenant-alpha:fleet-push']);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(JSON.parse(run.stdout).push).toMatchObject({ ok: true });
      expect(run.stdout + run.stderr).not.toContain(PLANTED);
    }
    const res = await api('/v1/gateway/upstreams/discovered', keys['tenant-alpha:gateway']);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      tenant_id: 'tenant-alpha',
      source: 'fleet_scan_aggregate',
      generated_at: expect.any(String),
      upstreams: [
        {
          name: 'jira',
          url: `${jira.url}/sse`,
          transport: 'sse',
          auth: 'none',
          source_agents: ['mac-laptop-1', 'windows-laptop-3'],
          source_agent_count: 2,
          // Added after the seed (its fields above are unchanged): not routed until an admin approves it.
          approval: 'pending',
        },
      ],
      conflicts: [],
    });
  }, 180_000);

  it('the fleet shows both endpoints with live tools from introspection, and no credential value', async () => {
    const list = await api('/v1/fleet', keys['tenant-alpha:viewer']);
    expect(list.status).toBe(200);
    const items = JSON.parse(list.text).items as Array<{
      id: string;
      client: string;
      endpoint: { hostname: string };
    }>;
    expect(items.map((a) => `${a.endpoint.hostname}/${a.client}`).sort()).toEqual([
      'mac-laptop-1/claude-desktop',
      'windows-laptop-3/cursor',
    ]);
    const mac = items.find((a) => a.endpoint.hostname === 'mac-laptop-1')!;
    const detail = JSON.parse((await api(`/v1/fleet/${mac.id}`, keys['tenant-alpha:viewer'])).text);
    const byName = Object.fromEntries(detail.servers.map((s: { name: string }) => [s.name, s]));
    expect(byName.everything).toMatchObject({ transport: 'stdio', introspection: { status: 'ok' } });
    expect(byName.everything.tools).toContain('echo');
    expect(byName.jira).toMatchObject({ transport: 'sse', tools: ['create_issue', 'search_issues'] });

    const servers = JSON.parse(
      (await api('/v1/fleet/servers?q=jira', keys['tenant-alpha:viewer'])).text,
    ).items;
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ endpoint_count: 2, credential_header_names: ['Authorization'] });

    for (const url of ['/v1/fleet', `/v1/fleet/${mac.id}`, '/v1/fleet/servers']) {
      expect((await api(url, keys['tenant-alpha:viewer'])).text).not.toContain(PLANTED);
    }
    const stored = await db.dataSource.query(`SELECT * FROM fleet_servers`);
    expect(JSON.stringify(stored)).not.toContain(PLANTED);
    expect(jira.methods).not.toContain('tools/call');
  }, 60_000);

  it('a second URL under the same name becomes jira-1, listed in conflicts', async () => {
    const run = await agents('linux', 'linux-box-9', 'lin-9', keys['tenant-alpha:fleet-push']);
    expect(run.code).toBe(0);
    const body = JSON.parse(
      (await api('/v1/gateway/upstreams/discovered', keys['tenant-alpha:gateway'])).text,
    );
    expect(body.upstreams.map((u: { name: string; url: string }) => [u.name, u.url])).toEqual([
      ['jira', `${jira.url}/sse`],
      ['jira-1', `${otherJira.url}/mcp`],
    ]);
    expect(body.conflicts).toEqual([
      {
        name: 'jira',
        upstreams: [
          { name: 'jira', url: `${jira.url}/sse` },
          { name: 'jira-1', url: `${otherJira.url}/mcp` },
        ],
      },
    ]);
  }, 120_000);

  it('a tenant with only stdio servers discovers an empty list, and sees nothing of tenant-alpha', async () => {
    const run = await agents('stdio', 'build-agent-2', 'ci-2', keys['tenant-stdio:fleet-push']);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(PLANTED);
    const res = await api('/v1/gateway/upstreams/discovered', keys['tenant-stdio:gateway']);
    expect(JSON.parse(res.text)).toMatchObject({ tenant_id: 'tenant-stdio', upstreams: [], conflicts: [] });
    const fleet = JSON.parse((await api('/v1/fleet', keys['tenant-stdio:viewer'])).text).items;
    expect(fleet).toHaveLength(1);
    expect(fleet[0].endpoint.hostname).toBe('build-agent-2');
    expect(JSON.stringify(await db.dataSource.query(`SELECT * FROM fleet_servers`))).not.toContain(PLANTED);
  }, 120_000);

  it('the fleet-push key that pushed cannot read anything back', async () => {
    for (const url of ['/v1/fleet', '/v1/fleet/servers', '/v1/gateway/upstreams/discovered']) {
      expect((await api(url, keys['tenant-alpha:fleet-push'])).status).toBe(403);
    }
  });
});
