import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { startFakeControlPlane, type FakeControlPlane } from '../helpers/fake-control-plane.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';

/**
 * Reproductions of the runtime review's gateway findings (#16 item 5), each against a real listening gateway
 * in front of a real SDK MCP server, with two tenants served by one gateway.
 */
const GW_KEY_H = 'abom_gateway_key_of_tenant_h_0123456789abcdefghijklmno';
const GW_KEY_O = 'abom_gateway_key_of_tenant_o_0123456789abcdefghijklmno';
const KEY_H = `abom_${'h'.repeat(43)}`;
const KEY_H2 = `abom_${'i'.repeat(43)}`;
const KEY_O = `abom_${'o'.repeat(43)}`;

/** One raw HTTP/1.1 exchange: whatever the server sends until it closes (or `waitMs` passes). */
function raw(url: string, text: string, waitMs = 3000): Promise<{ data: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    let data = '';
    const done = () => resolve({ data, closedAfterMs: Date.now() - started });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closedAfterMs: Number.POSITIVE_INFINITY });
    }, waitMs);
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.on('error', () => undefined);
    if (text) socket.write(text);
  });
}

describe('gateway: runtime review findings', () => {
  let cp: FakeControlPlane;
  let mcp: HttpMcpServer;
  let gateway: RunningGateway;
  let dir: string;
  const tenant = 'tenant-h';

  const post = (body: unknown, headers: Record<string, string> = {}, target = '/mcp/tools') =>
    fetch(`${gateway.url}${target}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY_H}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const audit = async () => {
    for (const state of gateway.runtime.tenants.values()) await state.audit.flush();
    return cp.audit;
  };

  beforeAll(async () => {
    cp = await startFakeControlPlane();
    mcp = await startHttpMcpServer({ tools: ['search', 'echo'] });
    cp.gatewayKeys.set(GW_KEY_H, tenant);
    cp.gatewayKeys.set(GW_KEY_O, 'tenant-o');
    cp.upstreams.set(tenant, [{ name: 'tools', url: `${mcp.url}/mcp`, transport: 'http' }]);
    cp.upstreams.set('tenant-o', [{ name: 'secret-tools', url: `${mcp.url}/mcp`, transport: 'http' }]);
    cp.clientKeys.set(KEY_H, { tenant, role: 'viewer', key_id: 'kh' });
    cp.clientKeys.set(KEY_H2, { tenant, role: 'viewer', key_id: 'kh2' });
    cp.clientKeys.set(KEY_O, { tenant: 'tenant-o', role: 'viewer', key_id: 'ko' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-findings-'));
    const policy = path.join(dir, 'policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({
        version: 1,
        rules: [
          {
            id: 'no-etc',
            effect: 'deny',
            tools: ['echo'],
            arguments: [{ path: '$.path', op: 'regex', value: '/^[/]etc[/]/' }],
          },
        ],
      }),
    );
    gateway = await startGateway(
      {
        bind: '127.0.0.1:0',
        fromControlPlane: cp.url,
        controlPlaneToken: [GW_KEY_H, GW_KEY_O],
        policy,
        rateLimitPerTenant: '1000/min',
        egressAllow: ['127.0.0.1/32'],
      },
      {
        LOG_LEVEL: 'silent',
        AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS: '50',
        AGENT_BOM_GATEWAY_HEADER_TIMEOUT_MS: '500',
        AGENT_BOM_GATEWAY_IDLE_TIMEOUT_MS: '500',
        AGENT_BOM_GATEWAY_MAX_SESSIONS_PER_CREDENTIAL: '2',
        AGENT_BOM_GATEWAY_MAX_SESSIONS_PER_TENANT: '3',
        AGENT_BOM_GATEWAY_SESSION_OPENS_PER_MINUTE: '100',
      },
      () => undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await mcp?.close();
    await cp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('bad-input: a tools/call sent as a notification (no id) is refused, audited and never forwarded', async () => {
    const before = mcp.methods.filter((m) => m === 'tools/call').length;
    const res = await post({
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'echo', arguments: { path: '/etc/passwd' } },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /tools\/call is a request method and needs an id/,
    );
    expect(mcp.methods.filter((m) => m === 'tools/call').length).toBe(before);
    expect(
      (await audit()).some(
        (e) => e.type === 'request.refused' && /sent as a notification/.test(e.reason ?? ''),
      ),
    ).toBe(true);
    // real notifications still pass
    const note = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(note.status).toBeLessThan(300);
  });

  it('bad-input: a body nested 5,000 levels deep is a 400, not an upstream failure', async () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}}`;
    const res = await post(deep);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /nesting deeper than 128 levels/,
    );
  });

  it('unauthenticated: /%6Dcp/… and absolute-form targets are normalised and need a credential', async () => {
    const encoded = await fetch(`${gateway.url}/%6Dcp/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(encoded.status).toBe(401);
    const dots = await fetch(`${gateway.url}/x/..%2F../%73se/tools`, { method: 'GET' });
    expect([401, 404]).toContain(dots.status);
    const { port } = new URL(gateway.url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const absolute = await raw(
      gateway.url,
      `POST http://127.0.0.1:${port}/mcp/tools HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(absolute.data).toMatch(/^HTTP\/1\.1 401/);
  });

  it('dns-rebinding: a foreign Origin is 403 on every route; a foreign Host is 403 on a loopback-bound gateway', async () => {
    const origin = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { origin: 'http://evil.example.com' },
    );
    expect(origin.status).toBe(403);
    const health = await fetch(`${gateway.url}/healthz`, { headers: { origin: 'http://evil.example.com' } });
    expect(health.status).toBe(403);
    const { port } = new URL(gateway.url);
    const host = await raw(
      gateway.url,
      `GET /healthz HTTP/1.1\r\nHost: evil.example.com:${port}\r\nconnection: close\r\n\r\n`,
    );
    expect(host.data).toMatch(/^HTTP\/1\.1 403/);
    const local = await raw(
      gateway.url,
      `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nconnection: close\r\n\r\n`,
    );
    expect(local.data).toMatch(/^HTTP\/1\.1 200/);
    // a loopback page on a loopback-bound gateway is this machine's own (conformance: localhost-host-valid-accepted)
    const own = await raw(
      gateway.url,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\nconnection: close\r\n\r\n`,
    );
    expect(own.data).toMatch(/^HTTP\/1\.1 200/);
  });

  it('cross-tenant: anonymous /healthz names no tenant and no upstream of a multi-tenant gateway; a caller sees its own', async () => {
    const anonymous = await (await fetch(`${gateway.url}/healthz`)).text();
    expect(anonymous).not.toMatch(/secret-tools|tenant-o|tenant-h/);
    expect(JSON.parse(anonymous)).toMatchObject({ status: 'ok', upstreams: [] });
    const own = (await (
      await fetch(`${gateway.url}/healthz`, { headers: { authorization: `Bearer ${KEY_O}` } })
    ).json()) as { upstreams: string[] };
    expect(own.upstreams).toEqual(['secret-tools']);
    await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).not.toMatch(/tenant/);
  });

  it('bad-input: a denial by an argument condition names the condition, not just the tool', async () => {
    const res = await post({
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo', arguments: { path: '/etc/shadow' } },
    });
    const text = await res.text();
    const message = (JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? text) as { error: { message: string } })
      .error.message;
    expect(message).toMatch(/denied by rule "no-etc"/);
    expect(message).toMatch(/path/);
    expect(message).not.toMatch(/is not allowed$/);
  });

  it('slow or silent connections are closed after the header and idle timeouts', async () => {
    const silent = await raw(gateway.url, '', 5000);
    expect(silent.closedAfterMs).toBeLessThan(4000);
    const partial = await raw(gateway.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 5000);
    expect(partial.closedAfterMs).toBeLessThan(4000);
    const idle = await raw(gateway.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 5000);
    expect(idle.data).toMatch(/^HTTP\/1\.1 200/);
    expect(idle.closedAfterMs).toBeLessThan(4000);
  });

  it('legacy SSE streams are capped per credential and per tenant; another tenant still gets one', async () => {
    const controllers: AbortController[] = [];
    const open = async (key: string) => {
      const controller = new AbortController();
      controllers.push(controller);
      const res = await fetch(`${gateway.url}/sse/${key === KEY_O ? 'secret-tools' : 'tools'}`, {
        headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (res.status !== 200) await res.text();
      return res.status;
    };
    try {
      expect(await open(KEY_H)).toBe(200);
      expect(await open(KEY_H)).toBe(200);
      expect(await open(KEY_H)).toBe(429); // per credential: 2
      expect(await open(KEY_H2)).toBe(200);
      expect(await open(KEY_H2)).toBe(429); // per tenant: 3
      expect(await open(KEY_O)).toBe(200); // the other tenant is unaffected
      expect(
        (await audit()).some((e) => e.type === 'rate_limit.exceeded' && /sessions/.test(e.reason ?? '')),
      ).toBe(true);
    } finally {
      for (const c of controllers) c.abort();
    }
  });
});

describe('gateway: a control-plane key of the wrong role', () => {
  it('wrong-role: refuses to start and names the role it needs', async () => {
    const cp = await startFakeControlPlane();
    const key = 'abom_viewer_key_of_tenant_v_0123456789abcdefghijklmnopq';
    cp.gatewayKeys.set(key, 'tenant-v');
    cp.keyRoles.set(key, 'viewer');
    try {
      await expect(
        startGateway(
          { bind: '127.0.0.1:0', fromControlPlane: cp.url, controlPlaneToken: [key] },
          { LOG_LEVEL: 'silent' },
          () => undefined,
        ),
      ).rejects.toThrow(/is a "viewer" key; the gateway needs a "gateway" key/);
    } finally {
      await cp.close();
    }
  });
});

describe('gateway egress: discovered upstreams cannot reach internal addresses', () => {
  let cp: FakeControlPlane;
  let mcp: HttpMcpServer;
  const GW = 'abom_gateway_key_of_tenant_e_0123456789abcdefghijklmno';
  const KEY = `abom_${'e'.repeat(43)}`;
  const lines: string[] = [];
  let gateway: RunningGateway;

  beforeAll(async () => {
    cp = await startFakeControlPlane();
    mcp = await startHttpMcpServer({ tools: ['search'] });
    cp.gatewayKeys.set(GW, 'tenant-e');
    cp.clientKeys.set(KEY, { tenant: 'tenant-e', role: 'viewer', key_id: 'ke' });
    cp.upstreams.set('tenant-e', [
      // what a fleet-push key reported: the control plane's own metrics, metadata in hex IPv6 spellings
      { name: 'cp-metrics', url: `${cp.url}/metrics`, transport: 'http' },
      { name: 'meta-mapped', url: 'http://[::ffff:a9fe:a9fe]/latest/meta-data', transport: 'http' },
      { name: 'meta-compat', url: 'http://[::a9fe:a9fe]/latest/meta-data', transport: 'http' },
      { name: 'meta-nat64', url: 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data', transport: 'http' },
      { name: 'allowed-tools', url: `${mcp.url}/mcp`, transport: 'http' },
      { name: 'by-name', url: `${mcp.url.replace('127.0.0.1', 'localhost')}/mcp`, transport: 'http' },
      { name: 'waiting', url: 'https://mcp.example.com/mcp', transport: 'http', approval: 'pending' },
      { name: 'refused', url: 'https://mcp.example.org/mcp', transport: 'http', approval: 'blocked' },
      // an answer without the field (a control plane from before approval): nobody approved it, so not routed
      { name: 'unknown', url: 'https://mcp.example.net/mcp', transport: 'http', approval: null },
      // names and addresses a gateway cannot route (a control plane from before routable names handed them out)
      { name: 'My Server, v2', url: `${mcp.url}/mcp`, transport: 'http' },
      { name: 'files', url: 'ftp://files.example.com/mcp', transport: 'http' },
    ]);
    gateway = await startGateway(
      {
        bind: '127.0.0.1:0',
        fromControlPlane: cp.url,
        controlPlaneToken: [GW],
        egressAllow: ['127.0.0.1/32'],
      },
      { LOG_LEVEL: 'silent' },
      (line) => lines.push(line),
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await mcp?.close();
    await cp?.close();
  });

  it('fronts approved, allowed upstreams only; the third line names the rest and why', () => {
    expect(lines.find((l) => l.startsWith('agent-bom gateway serving on'))).toMatch(
      /fronting 2 upstream\(s\): allowed-tools, by-name$/,
    );
    const third = lines.find((l) => l.startsWith('not fronting'))!;
    expect(third).toMatch(/^not fronting 9 upstream\(s\): /);
    expect(third).toContain('"My Server, v2" (name not routable at /mcp/<name>)');
    expect(third).toContain('files (unusable address)');
    expect(third).toMatch(
      /cp-metrics \(refused by egress: 127\.0\.0\.1 is the control plane's own address\)/,
    );
    expect(third).toMatch(/meta-mapped \(refused by egress: 169\.254\.169\.254 is a cloud metadata address/);
    expect(third).toMatch(/meta-compat \(refused by egress: .* is a cloud metadata address/);
    expect(third).toMatch(/meta-nat64 \(refused by egress: .* is a cloud metadata address/);
    expect(third).toMatch(/waiting \(pending approval\)/);
    expect(third).toMatch(/refused \(blocked\)/);
    expect(third).toMatch(/unknown \(approval unknown \(control plane reports none\)\)/);
  });

  it('a name resolving to loopback is refused at connect time unless the allow-list covers it', async () => {
    const strict = await startGateway(
      { bind: '127.0.0.1:0', fromControlPlane: cp.url, controlPlaneToken: [GW] },
      { LOG_LEVEL: 'silent' },
      () => undefined,
    );
    try {
      const res = await fetch(`${strict.url}/mcp/by-name`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /refused by egress: localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
      );
      expect(mcp.methods).not.toContain('tools/list');
    } finally {
      await strict.close();
    }
  });
});
