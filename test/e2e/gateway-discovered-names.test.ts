import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UPSTREAM_NAME } from '../../libs/contracts/src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { agent, remoteServer } from '../helpers/fleet.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { runCli, startServer, type Server } from '../helpers/processes.js';

/**
 * Whatever a client config calls a server, the name discovery hands out is one the gateway routes at
 * `/mcp/<name>`: a fleet push with names a gateway path cannot carry (a space, accents, 200 characters plus a
 * collision suffix), an admin approves each name discovery answers, and a real gateway fronts and relays all of
 * them. Before the fix the control plane named them as reported and the gateway never routed them.
 */
describe('discovered upstream names are routable', () => {
  let db: TestDatabase;
  let cp: Server;
  let servers: HttpMcpServer[] = [];
  let gateway: GatewayProcess;
  const keys: Record<string, string> = {};
  const LONG = 'a'.repeat(200);
  const BEARER = 'gateway-bearer-token-0123456789';

  const call = async (url: string, key: string, init: RequestInit = {}) => {
    const res = await fetch(`${cp.url}${url}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    cp = await startServer(['--port', '0'], env);
    expect((await runCli(['tenants', 'create', 'tenant-alpha'], env)).code).toBe(0);
    for (const role of ['fleet-push', 'gateway', 'admin']) {
      const created = await runCli(['keys', 'create', '--tenant', 'tenant-alpha', '--role', role], env);
      expect(created.code).toBe(0);
      keys[role] = created.stdout.trim();
    }
    servers = await Promise.all(
      ['spaced', 'accented', 'long', 'long-too'].map((name) => startHttpMcpServer({ name, tools: [name] })),
    );
    const [spaced, accented, long, longToo] = servers;
    const pushed = await call('/v1/fleet/sync', keys['fleet-push'], {
      method: 'POST',
      body: JSON.stringify({
        source_id: 'mac-1',
        endpoint: { hostname: 'mac-laptop-1', os: 'darwin' },
        agents: [
          agent('claude-desktop', [
            remoteServer('My Server', `${spaced.url}/mcp`),
            remoteServer('ünïcode', `${accented.url}/mcp`),
            remoteServer(LONG, `${long.url}/mcp`),
          ]),
          agent('cursor', [remoteServer(LONG, `${longToo.url}/mcp`)], 'cursor'),
        ],
      }),
    });
    expect(pushed.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(servers.map((s) => s.close()));
    cp?.child.kill('SIGTERM');
    await cp?.exited;
    await db?.drop();
  }, 60_000);

  it('discovery names every upstream with a name the gateway can route; an admin approves each', async () => {
    const answer = await call('/v1/gateway/upstreams/discovered', keys.gateway);
    const upstreams = answer.body.upstreams as Array<{ name: string; url: string }>;
    expect(upstreams).toHaveLength(4);
    for (const { name } of upstreams) expect(name).toMatch(UPSTREAM_NAME);
    const byUrl = Object.fromEntries(upstreams.map((u) => [u.url, u.name]));
    const [spaced, accented, long, longToo] = servers.map((s) => byUrl[`${s.url}/mcp`]);
    expect([spaced, accented, long]).toEqual(['My-Server', 'unicode', LONG]);
    expect(longToo).toBe(`${LONG.slice(0, 198)}-1`);
    expect(answer.body.conflicts).toEqual([
      {
        name: LONG,
        upstreams: [
          { name: long, url: `${servers[2].url}/mcp` },
          { name: longToo, url: `${servers[3].url}/mcp` },
        ],
      },
    ]);
    for (const name of upstreams.map((u) => u.name)) {
      const res = await call(`/v1/gateway/upstreams/${encodeURIComponent(name)}/approval`, keys.admin, {
        method: 'PUT',
        body: JSON.stringify({ state: 'approved' }),
      });
      expect({ name, status: res.status, body: res.body }).toMatchObject({ name, status: 200 });
    }
  });

  it('the gateway fronts every approved upstream and relays a call to each', async () => {
    gateway = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
        ...['--control-plane-token', keys.gateway, '--bearer-token', BEARER],
      ],
      { ...process.env, LOG_LEVEL: 'warn' },
    );
    const names = ['My-Server', 'unicode', LONG, `${LONG.slice(0, 198)}-1`];
    expect(gateway.lines()[1]).toContain(`fronting 4 upstream(s)`);
    expect(gateway.output()).not.toContain('not fronting');
    for (const [i, name] of names.entries()) {
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/${name}`), {
          requestInit: { headers: { authorization: `Bearer ${BEARER}` } },
        }),
      );
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual([['spaced', 'accented', 'long', 'long-too'][i]]);
      await client.close();
    }
  }, 90_000);
});
