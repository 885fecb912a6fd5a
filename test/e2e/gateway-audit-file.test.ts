import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RuntimeAuditEvent } from '../../libs/contracts/src/index.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { runCli } from '../helpers/processes.js';

/**
 * `agent-bom gateway serve --audit-file` (the built process, no control plane) in front of real SDK MCP servers:
 * every call leaves exactly one record once the upstream answered or failed, with its outcome; the file rotates
 * at its bound; a token planted in a denied call's arguments appears in no record and in no log line at any level.
 */
const BEARER = 'audit-file-suite-bearer-token-0123';
// A GitHub-token-shaped and an AWS-documented test value (never real credentials).
const TOKEN = 'ghp_' + 'Q7wErTy9'.repeat(4) + 'Zx8K';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

type Record = RuntimeAuditEvent & { tenant?: string; source_id?: string };

const records = async (file: string): Promise<Record[]> =>
  (await fs.readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record);

describe('gateway --audit-file', () => {
  let dir: string;
  let tools: HttpMcpServer;
  let leaky: HttpMcpServer;
  let old: HttpMcpServer;
  let gateway: GatewayProcess;
  let file: string;

  const call = async (id: number, name: string, args: object = {}, upstream = 'tools') => {
    const res = await fetch(`${gateway.url}/mcp/${upstream}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${BEARER}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
    });
    const text = await res.text();
    const data = /^data: (.*)$/m.exec(text)?.[1] ?? text;
    return { status: res.status, body: JSON.parse(data || '{}') as { result?: unknown; error?: unknown } };
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-audit-'));
    file = path.join(dir, 'audit.jsonl');
    tools = await startHttpMcpServer({
      tools: ['search', 'slow', 'fetch', 'delete_all'],
      slow: { tools: ['slow'], ms: 1500 },
    });
    leaky = await startHttpMcpServer({ tools: ['read'], answer: `aws_access_key_id=${AWS_KEY}` });
    old = await startHttpMcpServer({ tools: ['lookup'], streamable: false });
    const overlay = path.join(dir, 'upstreams.yaml');
    await fs.writeFile(
      overlay,
      [
        'upstreams:',
        `  - name: tools\n    url: ${tools.url}/mcp`,
        `  - name: leaky\n    url: ${leaky.url}/mcp`,
        '  - name: down\n    url: http://127.0.0.1:9/mcp',
        `  - name: old\n    url: ${old.url}/sse\n    transport: sse`,
      ].join('\n') + '\n',
    );
    const policy = path.join(dir, 'policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({
        version: 1,
        rules: [
          { id: 'no-delete', effect: 'deny', tools: ['delete_*'] },
          {
            id: 'no-token-search',
            effect: 'deny',
            tools: ['search'],
            arguments: [{ path: '$.q', op: 'regex', value: '/ghp_/' }],
          },
        ],
      }),
    );
    gateway = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--upstreams', overlay, '--bearer-token', BEARER],
        ...['--egress-allow', '127.0.0.1/32', '--policy', policy, '--detect-credentials'],
        ...['--argument-detectors', 'off', '--rate-limit-per-tool', '2/min'],
        ...['--audit-file', file],
      ],
      { ...process.env, LOG_LEVEL: 'trace' },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await tools?.close();
    await leaky?.close();
    await old?.close();
    await fs.rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('records each call once, after the upstream answered, with its outcome', async () => {
    const slow = call(1, 'slow');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await records(file)).filter((e) => e.request_id === '1')).toEqual([]);
    expect((await slow).body.result).toBeDefined();

    expect((await call(2, 'search', { q: 'weather' })).body.result).toBeDefined();
    expect((await call(3, 'delete_all', { token: TOKEN })).body.error).toBeDefined();
    expect((await call(4, 'search', { q: `find ${TOKEN}` })).body.error).toBeDefined();
    expect((await call(5, 'read', {}, 'leaky')).body.result).toBeDefined();
    expect((await call(6, 'search', { q: 'x' }, 'down')).status).toBe(502);
    // A token where a name goes: the denied call's record and log line carry the name, redacted.
    expect((await call(10, `delete_all:${TOKEN}`, { token: TOKEN })).body.error).toBeDefined();
    await call(7, 'fetch');
    await call(8, 'fetch');
    expect((await call(9, 'fetch')).status).toBe(429);

    // Written synchronously when recorded: once the answers are in, so are the records.
    const all = await records(file);
    const one = (id: number) => {
      const found = all.filter((e) => e.request_id === String(id));
      expect(found).toHaveLength(1);
      return found[0];
    };
    expect(one(1)).toMatchObject({
      type: 'tool_call.allowed',
      tool: 'slow',
      outcome: 'answered',
      tenant: 'default',
    });
    expect(one(2)).toMatchObject({ type: 'tool_call.allowed', tool: 'search', outcome: 'answered' });
    expect(one(3)).toMatchObject({ type: 'tool_call.denied', tool: 'delete_all', rule_id: 'no-delete' });
    expect(one(4)).toMatchObject({ type: 'tool_call.denied', tool: 'search', rule_id: 'no-token-search' });
    expect(one(5)).toMatchObject({
      type: 'response.redacted',
      tool: 'read',
      server: 'leaky',
      outcome: 'answered',
    });
    expect(one(6)).toMatchObject({ type: 'tool_call.allowed', server: 'down', outcome: 'upstream_failed' });
    expect(one(6).error_class).toMatch(/^[a-z0-9_]+$/);
    expect(one(7)).toMatchObject({ type: 'tool_call.allowed', outcome: 'answered' });
    expect(one(9)).toMatchObject({ type: 'rate_limit.exceeded', tool: 'fetch' });
    expect(one(10)).toMatchObject({ type: 'tool_call.denied', rule_id: 'no-delete' });
    expect(one(10).tool).toMatch(/^delete_all:\[REDACTED:/);
    expect(one(9).outcome).toBeUndefined();
  });

  it('over the legacy SSE front and a bridge to a legacy SSE upstream: once each, with the outcome', async () => {
    const headers = { authorization: `Bearer ${BEARER}` };
    const sse = new Client({ name: 'audit-sse', version: '1.0.0' });
    await sse.connect(
      new SSEClientTransport(new URL(`${gateway.url}/sse/tools`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, { ...init, headers: { ...(init?.headers as object), ...headers } }),
        },
      }),
    );
    const before = (await records(file)).length;
    await sse.callTool({ name: 'slow', arguments: {} });
    await sse.close();
    const bridged = new Client({ name: 'audit-bridge', version: '1.0.0' });
    await bridged.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/old`), { requestInit: { headers } }),
    );
    await bridged.callTool({ name: 'lookup', arguments: {} });
    await bridged.close();
    const calls = (await records(file)).slice(before).filter((e) => e.type.startsWith('tool_call.'));
    expect(calls.map((e) => [e.server, e.tool, e.outcome])).toEqual([
      ['tools', 'slow', 'answered'],
      ['old', 'lookup', 'answered'],
    ]);
  }, 30_000);

  it('no secret value in the audit file or in any log line, at any level', async () => {
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(AWS_KEY);
    // The gateway ran at trace level: a denied call's arguments with a planted token must not be printed.
    expect(gateway.output()).toContain('tool_call.denied');
    expect(gateway.output()).not.toContain(TOKEN);
    expect(gateway.output()).not.toContain(AWS_KEY);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('rotates at the size bound and keeps the configured number of files', async () => {
    const rotating = path.join(dir, 'rotating.jsonl');
    const small = await startGateway(
      [
        ...[
          '--bind',
          '127.0.0.1:0',
          '--upstreams',
          path.join(dir, 'upstreams.yaml'),
          '--bearer-token',
          BEARER,
        ],
        ...['--egress-allow', '127.0.0.1/32'],
        ...['--audit-file', rotating, '--audit-file-max-size', '4KiB', '--audit-file-keep', '1'],
      ],
      { ...process.env, LOG_LEVEL: 'warn' },
    );
    try {
      for (let id = 1; id <= 40; id++) {
        const res = await fetch(`${small.url}/mcp/tools`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${BEARER}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'tools/call',
            params: { name: 'search', arguments: {} },
          }),
        });
        await res.text();
      }
    } finally {
      await small.stop();
    }
    const names = (await fs.readdir(dir)).filter((n) => n.startsWith('rotating.jsonl')).sort();
    expect(names).toEqual(['rotating.jsonl', 'rotating.jsonl.1']);
    const ids: number[] = [];
    for (const name of names) {
      expect((await fs.stat(path.join(dir, name))).size).toBeLessThanOrEqual(4096);
      ids.push(...(await records(path.join(dir, name))).map((e) => Number(e.request_id)));
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(40);
    expect(ids).not.toContain(1);
  }, 60_000);

  it('refuses a bad size with a usage error', async () => {
    const bad = await runCli(
      [
        ...['gateway', 'serve', '--bind', '127.0.0.1:0', '--upstreams', path.join(dir, 'upstreams.yaml')],
        ...['--audit-file', file, '--audit-file-keep', 'many'],
      ],
      { ...process.env },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--audit-file-keep must be 0-100');
    const unopenable = await runCli(
      [
        ...['gateway', 'serve', '--bind', '127.0.0.1:0', '--upstreams', path.join(dir, 'upstreams.yaml')],
        ...['--audit-file', path.join(dir, 'no', 'such', 'dir.jsonl')],
      ],
      { ...process.env },
    );
    expect(unopenable.code).toBe(2);
    expect(unopenable.stderr).toContain('--audit-file: cannot open');
  });
});
