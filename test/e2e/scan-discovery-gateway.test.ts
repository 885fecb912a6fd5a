import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { runCli, startServer, waitFor, type Server } from '../helpers/processes.js';
import { OSV_FIXTURES } from '../scans/fixture.js';

/**
 * Upstreams discovered only from a scan result go through the same gates as fleet-reported ones, end to end:
 * a real `agent-bom scan --push-url` reports three remote servers, an admin approves two, and a real
 * `agent-bom gateway serve --from-control-plane` fronts the approved one its egress rules allow, names the
 * pending one and the one egress refuses (a metadata address), and relays MCP to the one it fronts.
 */
describe('scan-discovered upstreams through a real gateway', () => {
  let db: TestDatabase;
  let root: string;
  let cp: Server;
  let live: HttpMcpServer;
  let later: HttpMcpServer;
  let gateway: GatewayProcess;
  const keys: Record<string, string> = {};
  const BEARER = 'gateway-bearer-token-scan-0123456789';

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-scan-gateway-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      XDG_CONFIG_HOME: path.join(root, 'config'),
    };
    delete env.NODE_OPTIONS;
    cp = await startServer(['--port', '0'], env);
    expect((await runCli(['tenants', 'create', 'tenant-alpha'], env)).code).toBe(0);
    for (const role of ['fleet-push', 'gateway', 'admin']) {
      const created = await runCli(['keys', 'create', '--tenant', 'tenant-alpha', '--role', role], env);
      keys[role] = created.stdout.trim();
    }
    live = await startHttpMcpServer({ name: 'live', tools: ['lookup'] });
    later = await startHttpMcpServer({ name: 'later', tools: ['other'] });
    const home = path.join(root, 'home');
    await fs.mkdir(path.join(home, '.cursor'), { recursive: true });
    await fs.writeFile(
      path.join(home, '.cursor', 'mcp.json'),
      JSON.stringify({
        mcpServers: {
          live: { url: `${live.url}/mcp` },
          later: { url: `${later.url}/mcp` },
          meta: { url: 'http://169.254.169.254/mcp' },
        },
      }),
    );
    await fs.mkdir(path.join(root, 'project'));
    const run = await runCli(
      [
        'scan',
        ...['--home', home, '--os', 'linux', '--project', path.join(root, 'project')],
        ...['--advisories', OSV_FIXTURES, '--format', 'json', '--output', path.join(root, 'scan.json')],
        ...['--push-url', cp.url, '--push-api-key', keys['fleet-push'], '--source-id', 'ci-9'],
      ],
      { ...env, DATABASE_URL: '' },
      90_000,
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('pushed scan'),
    });
    for (const name of ['live', 'meta']) {
      const res = await fetch(`${cp.url}/v1/gateway/upstreams/${name}/approval`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'approved' }),
      });
      expect(res.status).toBe(200);
    }
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await live?.close();
    await later?.close();
    cp?.child.kill('SIGTERM');
    await cp?.exited;
    await fs.rm(root, { recursive: true, force: true });
    await db?.drop();
  }, 60_000);

  it('fronts the approved upstream egress allows, names the pending and the refused ones, and relays to it', async () => {
    gateway = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
        ...['--control-plane-token', keys.gateway, '--bearer-token', BEARER],
      ],
      { ...process.env, LOG_LEVEL: 'warn' },
    );
    expect(gateway.lines()[0]).toBe(`discovered 3 upstream(s) from ${cp.url}: later, live, meta`);
    expect(gateway.lines()[1]).toContain('fronting 1 upstream(s): live');
    // The notice follows the two startup lines; under load it may not be written yet when the gateway serves.
    await waitFor(() => gateway.lines().some((l) => l.startsWith('not fronting')));
    const notFronting = gateway.lines().find((l) => l.startsWith('not fronting'));
    expect(notFronting).toContain('later (pending approval)');
    expect(notFronting).toMatch(/meta \(refused by egress: [^)]*169\.254\.169\.254/);

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/live`), {
        requestInit: { headers: { authorization: `Bearer ${BEARER}` } },
      }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['lookup']);
    await client.close();
    expect(later.methods).toEqual([]);
  }, 90_000);
});
