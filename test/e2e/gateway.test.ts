import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { agent, remoteServer } from '../helpers/fleet.js';
import {
  startEverything,
  startGateway,
  type EverythingServer,
  type GatewayProcess,
} from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { runCli, startServer, waitFor, type Server } from '../helpers/processes.js';

/**
 * Issue 7's acceptance with real processes only: `agent-bom api` on PostgreSQL, fleet sync of real URLs,
 * `agent-bom gateway serve --from-control-plane` printing the seed's two lines, real MCP SDK clients (1.x
 * streamable HTTP and legacy SSE, 2.x) calling tools on real `server-everything` instances through it, a blocked
 * tool denied, both audited (read back with an analyst key), and two tenants with an upstream of one name
 * reaching different servers.
 */
describe('gateway serve --from-control-plane', () => {
  let db: TestDatabase;
  let cp: Server;
  let dir: string;
  let streamable: EverythingServer;
  let legacy: EverythingServer;
  let betaServer: HttpMcpServer;
  let gateway: GatewayProcess;
  let shared: GatewayProcess;
  const keys: Record<string, string> = {};
  const BEARER = 'gateway-bearer-token-0123456789';

  const api = async (url: string, key: string) => {
    const res = await fetch(`${cp.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const sync = async (tenant: string, payload: object) => {
    const res = await fetch(`${cp.url}/v1/fleet/sync`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keys[`${tenant}:fleet-push`]}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(200);
  };
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  const v1 = async (transport: Parameters<Client['connect']>[0]) => {
    const client = new Client({ name: 'e2e-v1', version: '1.0.0' });
    await client.connect(transport);
    return client;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gateway-e2e-'));
    const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    cp = await startServer(['--port', '0'], env);
    for (const tenant of ['tenant-alpha', 'tenant-beta']) {
      expect((await runCli(['tenants', 'create', tenant], env)).code).toBe(0);
      for (const role of ['fleet-push', 'gateway', 'analyst', 'viewer']) {
        const created = await runCli(['keys', 'create', '--tenant', tenant, '--role', role], env);
        expect(created.code).toBe(0);
        keys[`${tenant}:${role}`] = created.stdout.trim();
      }
    }
    [streamable, legacy] = await Promise.all([startEverything('streamableHttp'), startEverything('sse')]);
    betaServer = await startHttpMcpServer({ name: 'beta-everything', tools: ['beta_search'] });

    await sync('tenant-alpha', {
      source_id: 'mac-1',
      endpoint: { hostname: 'mac-laptop-1', os: 'darwin' },
      agents: [
        agent('claude-desktop', [
          remoteServer('everything', streamable.url),
          remoteServer('legacy', legacy.url),
        ]),
      ],
    });
    await sync('tenant-beta', {
      source_id: 'win-3',
      endpoint: { hostname: 'windows-laptop-3', os: 'win32' },
      agents: [agent('cursor', [remoteServer('everything', `${betaServer.url}/mcp`)], 'cursor')],
    });

    // Discovered upstreams are routed once approved (#16): `pending` until an admin approves.
    for (const [tenant, names] of [
      ['tenant-alpha', ['everything', 'legacy']],
      ['tenant-beta', ['everything']],
    ] as const) {
      const admin = (
        await runCli(['keys', 'create', '--tenant', tenant, '--role', 'admin'], env)
      ).stdout.trim();
      for (const name of names) {
        const res = await fetch(`${cp.url}/v1/gateway/upstreams/${name}/approval`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ state: 'approved' }),
        });
        expect({ name, status: res.status, body: await res.json() }).toMatchObject({
          name,
          status: 200,
          body: { name, state: 'approved' },
        });
      }
    }

    const policy = path.join(dir, 'policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({ version: 1, rules: [{ id: 'no-env', effect: 'deny', tools: ['get-env'] }] }),
    );
    gateway = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
        ...[
          '--control-plane-token',
          keys['tenant-alpha:gateway'],
          '--bearer-token',
          BEARER,
          '--policy',
          policy,
        ],
      ],
      { ...process.env, LOG_LEVEL: 'warn', AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS: '200' },
    );
    shared = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
        ...[
          '--control-plane-token',
          keys['tenant-alpha:gateway'],
          '--control-plane-token',
          keys['tenant-beta:gateway'],
        ],
      ],
      { ...process.env, LOG_LEVEL: 'warn', AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS: '200' },
    );
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await shared?.stop();
    await streamable?.stop();
    await legacy?.stop();
    await betaServer?.close();
    cp?.child.kill('SIGTERM');
    await cp?.exited;
    await fs.rm(dir, { recursive: true, force: true });
    await db?.drop();
  }, 60_000);

  it('prints the seed’s two startup lines exactly', () => {
    const port = new URL(gateway.url).port;
    expect(gateway.lines().slice(0, 2)).toEqual([
      `discovered 2 upstream(s) from ${cp.url}: everything, legacy`,
      `agent-bom gateway serving on http://127.0.0.1:${port} fronting 2 upstream(s): everything, legacy`,
    ]);
  });

  it('/healthz reports the posture the seed’s validation flow looks for', async () => {
    const health = await (await fetch(`${gateway.url}/healthz`)).json();
    expect(health).toMatchObject({
      status: 'ok',
      upstreams: ['everything', 'legacy'],
      auth: { incoming_token_required: true },
      rate_limit: { backend: 'disabled', limit: null },
      policy: { source: expect.stringContaining('file:') },
      control_plane: { reachable: true },
    });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('agent_bom_gateway_requests_total');
  });

  it('SDK 1.x over streamable HTTP: tools listed without the blocked one, echo works, get-env is denied', async () => {
    const client = await v1(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/everything`), {
        requestInit: { headers: auth(BEARER) },
      }),
    );
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('echo');
    expect(tools).not.toContain('get-env');
    expect(
      await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } }),
    ).toMatchObject({
      content: [{ type: 'text', text: 'Echo: through the gateway' }],
    });
    await expect(client.callTool({ name: 'get-env', arguments: {} })).rejects.toThrow(
      /-32001.*agent-bom gateway policy.*rule "no-env"/,
    );
    await client.close();
  }, 60_000);

  it('SDK 1.x over legacy SSE to a legacy SSE upstream, with a control-plane API key', async () => {
    const headers = auth(keys['tenant-alpha:viewer']);
    const client = await v1(
      new SSEClientTransport(new URL(`${gateway.url}/sse/legacy`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, { ...init, headers: { ...(init?.headers as object), ...headers } }),
        },
      }),
    );
    expect(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })).toMatchObject({
      content: [{ type: 'text', text: expect.stringContaining('5') }],
    });
    await expect(client.callTool({ name: 'get-env', arguments: {} })).rejects.toThrow(/-32001/);
    await client.close();
  }, 60_000);

  it('SDK 1.x streamable HTTP to the legacy SSE upstream (bridged session)', async () => {
    const client = await v1(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/legacy`), {
        requestInit: { headers: auth(BEARER) },
      }),
    );
    expect(await client.callTool({ name: 'echo', arguments: { message: 'bridged' } })).toMatchObject({
      content: [{ text: 'Echo: bridged' }],
    });
    await client.close();
  }, 60_000);

  it('SDK 2.x client (version negotiation on) through the gateway', async () => {
    const client = new ClientV2(
      { name: 'e2e-v2', version: '2.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(
      new StreamableV2(new URL(`${gateway.url}/mcp/everything`), { requestInit: { headers: auth(BEARER) } }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('get-env');
    expect(await client.callTool({ name: 'echo', arguments: { message: 'v2' } })).toMatchObject({
      content: [{ text: 'Echo: v2' }],
    });
    await expect(client.callTool({ name: 'get-env', arguments: {} })).rejects.toThrow(
      /agent-bom gateway policy/,
    );
    await client.close();
  }, 60_000);

  it('audit shows the allowed and the denied calls, with trace ids, for the analyst of the tenant', async () => {
    const analyst = keys['tenant-alpha:analyst'];
    await waitFor(async () => {
      const denied = (await api('/v1/audit?type=tool_call.denied&tool=get-env', analyst)).body
        .items as unknown[];
      return denied.length >= 3;
    }, 20_000);
    const allowed = (await api('/v1/audit?type=tool_call.allowed&tool=echo', analyst)).body.items as Array<{
      event: Record<string, unknown>;
    }>;
    expect(allowed.length).toBeGreaterThanOrEqual(3);
    expect(allowed[0].event).toMatchObject({
      type: 'tool_call.allowed',
      decision: 'allow',
      server: expect.stringMatching(/^(everything|legacy)$/),
      method: 'tools/call',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      argument_fingerprint: expect.stringMatching(/^sha256:/),
    });
    const denied = (await api('/v1/audit?type=tool_call.denied', analyst)).body.items as Array<{
      event: Record<string, unknown>;
    }>;
    expect(denied[0].event).toMatchObject({ tool: 'get-env', rule_id: 'no-env', decision: 'deny' });
    // nothing of tenant-alpha's traffic is in tenant-beta's ledger
    const beta = (await api('/v1/audit?type=tool_call.allowed', keys['tenant-beta:analyst'])).body
      .items as unknown[];
    expect(beta).toHaveLength(0);
  }, 30_000);

  it('two tenants with an upstream named "everything" reach different servers, never each other’s', async () => {
    expect(shared.lines()[0]).toBe(
      `discovered 2 upstream(s) from ${cp.url} for tenant tenant-alpha: everything, legacy`,
    );
    expect(shared.lines()[1]).toBe(
      `discovered 1 upstream(s) from ${cp.url} for tenant tenant-beta: everything`,
    );
    const connect = async (key: string) =>
      v1(
        new StreamableHTTPClientTransport(new URL(`${shared.url}/mcp/everything`), {
          requestInit: { headers: auth(key) },
        }),
      );
    const alpha = await connect(keys['tenant-alpha:viewer']);
    const beta = await connect(keys['tenant-beta:viewer']);
    expect(alpha.getServerVersion()?.name).not.toBe('beta-everything');
    expect((await alpha.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(beta.getServerVersion()?.name).toBe('beta-everything');
    expect((await beta.listTools()).tools.map((t) => t.name)).toEqual(['beta_search']);
    const callsBefore = betaServer.methods.filter((m) => m === 'tools/call').length;
    await alpha.callTool({ name: 'echo', arguments: { message: 'alpha only' } });
    expect(betaServer.methods.filter((m) => m === 'tools/call').length).toBe(callsBefore);
    await alpha.close();
    await beta.close();

    // beta naming alpha's upstream: 404, as for a name that exists nowhere, and audited to beta
    const res = await fetch(`${shared.url}/mcp/legacy`, {
      method: 'POST',
      headers: {
        ...auth(keys['tenant-beta:viewer']),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: -32003 } });
    await waitFor(async () => {
      const refused = (await api('/v1/audit?type=request.refused', keys['tenant-beta:analyst'])).body
        .items as Array<{ event: { server?: string } }>;
      return refused.some((r) => r.event.server === 'legacy');
    }, 20_000);
    // the gateway key of one tenant cannot relay, and keys of unknown tenants are refused
    const gatewayKey = await fetch(`${shared.url}/mcp/everything`, {
      method: 'POST',
      headers: auth(keys['tenant-beta:gateway']),
    });
    expect(gatewayKey.status).toBe(403);
    const unknown = await fetch(`${shared.url}/mcp/everything`, {
      method: 'POST',
      headers: auth(`abom_${'x'.repeat(43)}`),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer realm="agent-bom-gateway"/);
  }, 60_000);
  it('enforces the signed control-plane bundle: a policy created through the API blocks at the gateway, deleting it unblocks', async () => {
    const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    const admin = (
      await runCli(['keys', 'create', '--tenant', 'tenant-alpha', '--role', 'admin'], env)
    ).stdout.trim();
    const live = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
        ...['--control-plane-token', keys['tenant-alpha:gateway'], '--bearer-token', BEARER],
      ],
      { ...process.env, LOG_LEVEL: 'warn', AGENT_BOM_GATEWAY_POLICY_REFRESH_SECONDS: '1' },
    );
    const bundleVersion = async () => {
      const health = (await (await fetch(`${live.url}/healthz`)).json()) as {
        policy: { bundle?: Array<{ version: string | number }> };
      };
      return Number(health.policy.bundle?.[0]?.version ?? -1);
    };
    const echo = async () => {
      const client = await v1(
        new StreamableHTTPClientTransport(new URL(`${live.url}/mcp/everything`), {
          requestInit: { headers: auth(BEARER) },
        }),
      );
      try {
        return await client.callTool({ name: 'echo', arguments: { message: 'bundle' } });
      } finally {
        await client.close();
      }
    };
    try {
      expect(await echo()).toMatchObject({ content: [{ type: 'text', text: 'Echo: bundle' }] });
      const before = await bundleVersion();
      const created = await fetch(`${cp.url}/v1/gateway/policies`, {
        method: 'POST',
        headers: { ...auth(admin), 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'block-echo',
          enabled: true,
          document: { version: 1, rules: [{ id: 'no-echo', effect: 'deny', tools: ['echo'] }] },
        }),
      });
      expect(created.status).toBe(201);
      const policyId = ((await created.json()) as { id: string }).id;
      await waitFor(async () => (await bundleVersion()) > before, 20_000);
      await expect(echo()).rejects.toThrow(/-32001.*block-echo\/no-echo/);

      const deleted = await fetch(`${cp.url}/v1/gateway/policies/${policyId}`, {
        method: 'DELETE',
        headers: auth(admin),
      });
      expect(deleted.status).toBeLessThan(300);
      const blocked = await bundleVersion();
      await waitFor(async () => (await bundleVersion()) > blocked, 20_000);
      expect(await echo()).toMatchObject({ content: [{ type: 'text', text: 'Echo: bundle' }] });
    } finally {
      await live.stop();
    }
  }, 90_000);

  it('--state-dir: the real control plane bundle and rollback floor are kept on disk, and a restart starts from them', async () => {
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-gw-e2e-state-'));
    const args = [
      ...['--bind', '127.0.0.1:0', '--from-control-plane', cp.url, '--egress-allow', '127.0.0.1/32'],
      ...['--control-plane-token', keys['tenant-alpha:gateway'], '--bearer-token', BEARER],
      ...['--state-dir', stateDir],
    ];
    const env = { ...process.env, LOG_LEVEL: 'warn' };
    const health = async (url: string) =>
      (
        (await (await fetch(`${url}/healthz`)).json()) as {
          policy: { bundle: Array<{ version: string; last_error: string | null }> };
        }
      ).policy.bundle[0];
    try {
      const first = await startGateway(args, env);
      const served = await health(first.url);
      await first.stop();
      const state = JSON.parse(
        await fs.readFile(path.join(stateDir, 'policy', 'tenant-alpha', 'state.json'), 'utf8'),
      ) as { tenant_id: string; min_version: number; etag: string };
      expect(state).toMatchObject({ tenant_id: 'tenant-alpha', min_version: Number(served.version) });
      expect(state.etag).toMatch(new RegExp(`^"${served.version}\\.`));
      const second = await startGateway(args, env);
      try {
        expect(await health(second.url)).toMatchObject({ version: served.version, last_error: null });
      } finally {
        await second.stop();
      }
    } finally {
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  }, 90_000);
});
