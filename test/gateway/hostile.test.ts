import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { startFakeControlPlane, type FakeControlPlane } from '../helpers/fake-control-plane.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { waitFor } from '../helpers/processes.js';

/**
 * Hostile input against a real listening gateway (in process) in front of a real SDK MCP server, with a
 * loopback control plane that records the audit it receives. Every refusal is the right status with a
 * JSON-RPC error body, and is audited to the caller's tenant.
 */
const BEARER = 'hostile-suite-bearer-token-01234';
const KEY = `abom_${'k'.repeat(43)}`;
const OTHER_TENANT_KEY = `abom_${'o'.repeat(43)}`;

describe('gateway refuses hostile input', () => {
  let cp: FakeControlPlane;
  let mcp: HttpMcpServer;
  let gateway: RunningGateway;
  let dir: string;
  let policyFile: string;
  const tenant = 'tenant-h';

  const post = (body: unknown, headers: Record<string, string> = {}, upstream = 'tools') =>
    fetch(`${gateway.url}/mcp/${upstream}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${BEARER}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const refusals = async (reason: RegExp) => {
    await gateway.runtime.tenants.get(tenant)!.audit.flush();
    return cp.audit.filter((e) => e.type === 'request.refused' && reason.test(e.reason ?? ''));
  };
  /** The JSON-RPC answer, whether the upstream answered with JSON or an SSE stream. */
  const answer = async (res: Response) => {
    const text = await res.text();
    const data = /^data: (.*)$/m.exec(text)?.[1];
    return JSON.parse(data ?? text) as { error?: { code: number; data?: { rule_id?: string } } };
  };
  const call = (id: number, name = 'search') => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: { q: 'x' } },
  });

  beforeAll(async () => {
    cp = await startFakeControlPlane();
    mcp = await startHttpMcpServer({ tools: ['search', 'delete_all'] });
    cp.gatewayKeys.set('abom_gateway_key_of_tenant_h_0123456789abcdefghijklmno', tenant);
    cp.gatewayKeys.set('abom_gateway_key_of_tenant_o_0123456789abcdefghijklmno', 'tenant-o');
    cp.upstreams.set(tenant, [
      { name: 'tools', url: `${mcp.url}/mcp`, transport: 'http' },
      { name: 'down', url: 'http://127.0.0.1:9/mcp', transport: 'http' },
    ]);
    cp.upstreams.set('tenant-o', [{ name: 'secret-tools', url: `${mcp.url}/mcp`, transport: 'http' }]);
    cp.clientKeys.set(KEY, { tenant, role: 'viewer', key_id: 'k1' });
    cp.clientKeys.set(OTHER_TENANT_KEY, { tenant: 'tenant-o', role: 'viewer', key_id: 'k2' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-hostile-'));
    policyFile = path.join(dir, 'policy.json');
    await fs.writeFile(
      policyFile,
      JSON.stringify({ version: 1, rules: [{ id: 'no-delete', effect: 'deny', tools: ['delete_*'] }] }),
    );
    gateway = await startGateway(
      {
        bind: '127.0.0.1:0',
        fromControlPlane: cp.url,
        controlPlaneToken: [
          'abom_gateway_key_of_tenant_h_0123456789abcdefghijklmno',
          'abom_gateway_key_of_tenant_o_0123456789abcdefghijklmno',
        ],
        bearerToken: BEARER,
        egressAllow: ['127.0.0.1/32'], // the test upstreams are on loopback
        policy: policyFile,
        rateLimitPerTool: '5/min',
      },
      {
        LOG_LEVEL: 'silent',
        AGENT_BOM_GATEWAY_MAX_BODY_BYTES: '4096',
        AGENT_BOM_GATEWAY_BODY_TIMEOUT_MS: '400',
        AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS: '50',
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

  it('unauthenticated: 401 with a WWW-Authenticate challenge; a wrong bearer token too', async () => {
    const none = await fetch(`${gateway.url}/mcp/tools`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="agent-bom-gateway"');
    expect(await none.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32002 } });
    const wrong = await post(call(1), { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('Mcp-Method or Mcp-Name disagreeing with the body: 400 -32020, audited', async () => {
    const method = await post(call(2), { 'mcp-method': 'tools/list' });
    expect(method.status).toBe(400);
    expect((await method.json()) as object).toMatchObject({ id: 2, error: { code: -32020 } });
    const name = await post(call(3), { 'mcp-name': 'echo' });
    expect(name.status).toBe(400);
    expect(((await name.json()) as { error: { message: string } }).error.message).toMatch(
      /Mcp-Name header "echo"/,
    );
    // a 2026-07-28 request must carry the headers at all
    const modern = {
      ...call(4),
      params: { ...call(4).params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
    };
    const missing = await post(modern, { 'mcp-protocol-version': '2026-07-28' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(
      /Mcp-Method header is absent/,
    );
    const versions = await post(modern, {
      'mcp-protocol-version': '2025-11-25',
      'mcp-method': 'tools/call',
      'mcp-name': 'search',
    });
    expect(versions.status).toBe(400);
    expect((await refusals(/headers and body disagree/)).length).toBeGreaterThanOrEqual(3);
    expect(mcp.methods).not.toContain('tools/call');
  });

  it('malformed JSON-RPC: parse error, batch, missing jsonrpc, wrong content type; each refused and audited', async () => {
    const garbage = await post('{"jsonrpc":"2.0",');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ id: null, error: { code: -32700 } });
    const batch = await post([call(5), call(6)]);
    expect(batch.status).toBe(400);
    expect(((await batch.json()) as { error: { message: string } }).error.message).toMatch(/batches/);
    const noVersion = await post({ id: 7, method: 'tools/call' });
    expect(await noVersion.json()).toMatchObject({ id: 7, error: { code: -32600 } });
    const text = await post('hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: { code: -32600 } });
    expect((await refusals(/malformed JSON-RPC|not a JSON body/)).length).toBeGreaterThanOrEqual(4);
  });

  it('oversized body: 413, audited', async () => {
    const res = await post({ ...call(8), params: { name: 'search', arguments: { q: 'x'.repeat(10_000) } } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: -32007 } });
    expect(await refusals(/too large/)).not.toHaveLength(0);
  });

  it('a slow client trickling its body gets 408 within the body deadline, audited', async () => {
    const { port } = new URL(gateway.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write(
        `POST /mcp/tools HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${BEARER}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"jsonrpc":`,
      );
      setTimeout(() => socket.write('"2.0"'), 200);
    });
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(answer).toContain('-32007');
    expect(await refusals(/too slow/)).not.toHaveLength(0);
  });

  it('unknown or forged session ids: 404 -32006, audited; a session is not usable by another credential', async () => {
    const forged = await post(call(9), { 'mcp-session-id': 'gw1.eyJ4IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged.status).toBe(404);
    expect(await forged.json()).toMatchObject({ error: { code: -32006, message: 'Session not found' } });
    const raw = await post(call(10), { 'mcp-session-id': 'upstream-session-id-guess' });
    expect(raw.status).toBe(404);
    const session = deps().sessionIds.wrap(`${tenant}\u0000tools\u0000bearer`, { upstreamSessionId: 'abc' });
    const otherCredential = await post(call(11), {
      'mcp-session-id': session,
      authorization: `Bearer ${KEY}`,
    });
    expect(otherCredential.status).toBe(404);
    const get = await fetch(`${gateway.url}/mcp/tools`, {
      headers: { authorization: `Bearer ${BEARER}`, 'mcp-session-id': 'nope' },
    });
    expect(get.status).toBe(404);
    expect((await refusals(/Mcp-Session-Id/)).length).toBeGreaterThanOrEqual(3);
  });

  it('a tenant naming another tenant’s upstream gets the same 404 as a name that exists nowhere', async () => {
    const foreign = await post(call(12), { authorization: `Bearer ${OTHER_TENANT_KEY}` }, 'tools');
    expect(foreign.status).toBe(404);
    const nowhere = await post(call(13), {}, 'nowhere');
    expect(nowhere.status).toBe(404);
    const mine = await post(call(14), {}, 'secret-tools');
    expect(mine.status).toBe(404);
    expect(await foreign.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32003, message: 'no upstream named "tools"' },
    });
    await gateway.runtime.tenants.get('tenant-o')!.audit.flush();
    expect(
      cp.audit.some((e) => e.tenant === 'tenant-o' && e.type === 'request.refused' && e.server === 'tools'),
    ).toBe(true);
  });

  it('a failing upstream is a JSON-RPC error (502), and never affects another upstream', async () => {
    const down = await post(call(15), {}, 'down');
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({
      id: 15,
      error: { code: -32005, message: expect.stringContaining('"down"') },
    });
    const up = await post({ jsonrpc: '2.0', id: 16, method: 'tools/list' });
    expect(up.status).toBe(200);
  });

  it('policy: a denied tool is a JSON-RPC error naming the policy and rule, and is hidden from tools/list', async () => {
    const res = await post(call(17, 'delete_all'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 17,
      error: {
        code: -32001,
        message: expect.stringMatching(/agent-bom gateway policy.*rule "no-delete"/),
        data: { rule_id: 'no-delete' },
      },
    });
    const list = await post({ jsonrpc: '2.0', id: 18, method: 'tools/list' });
    const text = await list.text();
    expect(text).toContain('"search"');
    expect(text).not.toContain('delete_all');
  });

  it('policy file: a change is picked up in process; a broken file keeps the last good policy', async () => {
    // resources/read: policy applies to every method, and it stays clear of the per-tool rate limit
    const read = (id: number) =>
      post({ jsonrpc: '2.0', id, method: 'resources/read', params: { uri: 'file:///notes.txt' } });
    const rule = { id: 'no-reads', effect: 'deny', methods: ['resources/read'] };
    await fs.writeFile(policyFile, JSON.stringify({ version: 1, rules: [rule] }));
    await waitFor(async () => (await answer(await read(19))).error?.code === -32001, 10_000);
    await fs.writeFile(policyFile, '{"version": 1, "rules": [{"id": "broken", "effect": "explode"}]}');
    await waitFor(async () => {
      const health = (await (await fetch(`${gateway.url}/healthz`)).json()) as {
        policy: { file: { last_error: string | null } };
      };
      return health.policy.file.last_error !== null;
    }, 10_000);
    expect((await answer(await read(20))).error?.data?.rule_id).toBe('no-reads');
    await fs.writeFile(policyFile, JSON.stringify({ version: 1, rules: [] }));
    // forwarded again: the upstream (which has no resources) answers, not the gateway's policy
    await waitFor(async () => (await answer(await read(21))).error?.code !== -32001, 10_000);
  }, 40_000);

  it('rate limit per tool: 429 with Retry-After, RateLimit headers and a JSON-RPC error, audited', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 8; i++) {
      last = await post({
        jsonrpc: '2.0',
        id: 100 + i,
        method: 'tools/call',
        params: { name: 'search', arguments: {} },
      });
      if (last.status === 429) break;
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-limit')).toBe('5');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(await last!.json()).toMatchObject({
      error: { code: -32004, data: { retry_after_seconds: expect.any(Number) } },
    });
    await gateway.runtime.tenants.get(tenant)!.audit.flush();
    expect(cp.audit.some((e) => e.type === 'rate_limit.exceeded' && e.tool === 'search')).toBe(true);
  });

  it('the client credential never reaches the upstream; trace context does', async () => {
    const before = mcp.authorizations.length;
    const res = await post(
      { jsonrpc: '2.0', id: 30, method: 'tools/list' },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trace-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const hop = res.headers.get('traceparent');
    expect(hop).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    // The upstream received this request with the gateway hop's trace context, and no request of this suite
    // (this one included) carried the client's credential to it.
    expect(mcp.authorizations.length).toBeGreaterThan(before);
    expect(mcp.traceparents.slice(before)).toContain(hop);
    expect(mcp.authorizations.filter((a) => a !== undefined)).toEqual([]);
  });

  function deps() {
    return gateway.runtime;
  }
});
