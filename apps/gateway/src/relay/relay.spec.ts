import { describe, expect, it } from '@jest/globals';
import { parseClientMessage } from './jsonrpc.js';
import { sessionBinding, SessionIds } from './session-ids.js';
import { formatSse, SseParser, sseRewriter } from './sse.js';
import { checkStandardHeaders } from './standard-headers.js';
import { traceOf } from './relay-context.js';

const request = (method: string, params: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0' as const,
  id: 1,
  method,
  params,
});
const modern = (method: string, params: Record<string, unknown> = {}) =>
  request(method, { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } });

describe('standard headers against the body', () => {
  it('accepts agreeing headers in both revisions', () => {
    expect(checkStandardHeaders({}, request('tools/call', { name: 'echo' }), true)).toEqual({
      modern: false,
    });
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    expect(checkStandardHeaders(headers, modern('tools/call', { name: 'echo' }), true)).toEqual({
      modern: true,
    });
    const b64 = `=?base64?${Buffer.from('résumé').toString('base64')}?=`;
    expect(
      checkStandardHeaders({ ...headers, 'mcp-name': b64 }, modern('tools/call', { name: 'résumé' }), true)
        .refusal,
    ).toBeUndefined();
  });

  it('refuses every disagreement, in every revision', () => {
    const cases: Array<[Record<string, string>, ReturnType<typeof request>]> = [
      [{ 'mcp-method': 'tools/list' }, request('tools/call', { name: 'printEnv' })],
      [{ 'mcp-name': 'echo' }, request('tools/call', { name: 'printEnv' })],
      [{ 'mcp-name': 'file:///a' }, request('resources/read', { uri: 'file:///etc/shadow' })],
      [{ 'mcp-protocol-version': '2026-07-28' }, request('initialize')],
      [
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' },
        modern('tools/call', { name: 'x' }),
      ],
      [
        { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/call', 'mcp-name': 'x' },
        modern('tools/call', { name: 'x' }),
      ],
      [
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': '=?base64?!!?=' },
        modern('tools/call', { name: 'x' }),
      ],
    ];
    for (const [headers, body] of cases) {
      expect(checkStandardHeaders(headers, body, true).refusal).toMatchObject({ status: 400, code: -32020 });
    }
    expect(
      checkStandardHeaders({ 'mcp-protocol-version': '2026-07-28' }, request('tools/list'), true).refusal,
    ).toMatchObject({ code: -32602 });
  });
});

describe('JSON-RPC parsing', () => {
  it('classifies and refuses', () => {
    expect(parseClientMessage('{"jsonrpc":"2.0","id":1,"method":"ping"}').kind).toBe('request');
    expect(parseClientMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}').kind).toBe(
      'notification',
    );
    expect(parseClientMessage('{"jsonrpc":"2.0","id":"a","result":{}}').kind).toBe('response');
    expect(parseClientMessage('{')).toMatchObject({ kind: 'invalid', code: -32700 });
    expect(parseClientMessage('[]')).toMatchObject({ kind: 'invalid', code: -32600 });
    expect(parseClientMessage('{"jsonrpc":"2.0","id":null,"method":"x"}')).toMatchObject({ kind: 'invalid' });
    expect(parseClientMessage('{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}')).toMatchObject({
      kind: 'invalid',
      id: 1,
    });
  });
});

describe('session ids', () => {
  const ids = new SessionIds(Buffer.alloc(32, 7));
  const alice = sessionBinding('acme', 'jira', 'key:1');

  it('round-trip for the binding that opened them, and are unknown to any other', () => {
    const id = ids.wrap(alice, { upstreamSessionId: 'up-123', client: 'cursor' });
    expect(ids.unwrap(alice, id)).toEqual({ upstreamSessionId: 'up-123', client: 'cursor' });
    for (const other of [
      sessionBinding('evil', 'jira', 'key:1'),
      sessionBinding('acme', 'github', 'key:1'),
      sessionBinding('acme', 'jira', 'key:2'),
    ]) {
      expect(ids.unwrap(other, id)).toBeUndefined();
    }
    expect(
      ids.unwrap(
        alice,
        id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toBeUndefined();
    expect(new SessionIds(Buffer.alloc(32, 8)).unwrap(alice, id)).toBeUndefined();
    expect(ids.unwrap(alice, 'up-123')).toBeUndefined();
  });
});

describe('SSE', () => {
  it('parses across chunk boundaries and line endings, and round-trips', () => {
    const parser = new SseParser();
    const text =
      formatSse({ event: 'message', id: '7', data: '{"a":1}\n{"b":2}' }) +
      ': comment\r\nevent: endpoint\r\ndata: /m?x=1\r\n\r\n';
    const events = [];
    for (const char of text) events.push(...parser.push(char));
    expect(events).toEqual([
      { event: 'message', id: '7', data: '{"a":1}\n{"b":2}' },
      { event: 'endpoint', id: '7', data: '/m?x=1' },
    ]);
  });

  it('a rewritten stream passes the upstream keep-alive comments on, at event boundaries', async () => {
    const rewriter = sseRewriter((event) => event);
    const out: string[] = [];
    rewriter.on('data', (chunk: Buffer | string) => out.push(chunk.toString()));
    rewriter.write(': ping\n\n');
    rewriter.write('data: {"a"');
    rewriter.write(':1}\n: inside\n\n');
    rewriter.end();
    await new Promise((resolve) => rewriter.once('end', resolve));
    expect(out.join('')).toBe(': keep-alive\n\ndata: {"a":1}\n\n: keep-alive\n\n');
  });

  it('bounds one event', () => {
    expect(() => new SseParser(10).push(`data: ${'x'.repeat(20)}\n`)).toThrow(/size limit/);
  });
});

describe('trace context', () => {
  it('continues a caller trace with a new span, ignores invalid parents, starts one otherwise', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceOf({ traceparent: parent }, undefined)).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      flags: '01',
    });
    expect(traceOf({}, { traceparent: parent }).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceOf({ traceparent: parent }, undefined).spanId).not.toBe('00f067aa0ba902b7');
    expect(
      traceOf({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }, undefined).traceId,
    ).not.toMatch(/^0+$/);
  });
});
