import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { waitFor } from '../helpers/processes.js';

/**
 * A client that hangs up before the upstream answers is an ordinary event for a relay: the real gateway process
 * (spawned; its JSON log lines are on stdout) records it as a debug line without a stack, never as a warning or an error. The
 * upstream answers late, once as a chunked stream and once with a Content-Length, so both relay paths run.
 */
const TOKEN = 'client-disconnect-bearer-0123456789';

const callTool = (url: string, id: number, name: string, signal: AbortSignal): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    signal,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } }),
  });
const DELAY_MS = 600;

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
  stack?: string;
}

describe('gateway: a client that disconnects before the upstream answers', () => {
  let upstream: http.Server;
  let gateway: GatewayProcess;
  let scanning: GatewayProcess | undefined;
  let dir: string;
  let answered = 0;
  let streamClosed = 0;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url === '/streaming') {
        // A tools/call answered as an event stream that trickles: the client hangs up in the middle of it.
        req.resume();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const progress = (n: number): string =>
          `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: n } })}\n\n`;
        let n = 0;
        res.write(progress(n));
        const tick = setInterval(() => res.write(progress(++n)), 50);
        res.on('close', () => {
          clearInterval(tick);
          streamClosed++;
        });
        return;
      }
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [] } });
          res.on('finish', () => answered++);
          if (req.url === '/chunked') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
          else res.setHeader('content-type', 'application/json').end(body);
        }, DELAY_MS),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-disconnect-'));
    const overlay = path.join(dir, 'upstreams.yaml');
    await fs.writeFile(
      overlay,
      ['chunked', 'sized', 'streaming']
        .map(
          (name) =>
            `  - name: ${name}\n    url: http://127.0.0.1:${port}/${name}\n    auth: none\n    transport: streamable-http`,
        )
        .join('\n')
        .replace(/^/, 'upstreams:\n'),
    );
    gateway = await startGateway(
      [
        ...['--bind', '127.0.0.1:0', '--upstreams', overlay, '--egress-allow', '127.0.0.1/32'],
        // Audited: each call is held for its answer, so the relay settles it when the client hangs up.
        ...['--audit-file', path.join(dir, 'audit.jsonl')],
      ],
      { ...process.env, LOG_LEVEL: 'debug', AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN },
    );
    scanning = await startGateway(
      [
        '--bind',
        '127.0.0.1:0',
        '--upstreams',
        overlay,
        '--egress-allow',
        '127.0.0.1/32',
        '--detect-credentials',
      ],
      { ...process.env, AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await scanning?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await fs.rm(dir, { recursive: true, force: true });
  });

  const logLines = (): LogLine[] =>
    gateway
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  it.each(['chunked', 'sized'])(
    '%s answer: no warning or error, a debug line where the relay notices',
    async (name) => {
      const before = logLines().length;
      const done = answered;
      const abort = new AbortController();
      const sent = callTool(`${gateway.url}/mcp/${name}`, 1, 'x', abort.signal);
      setTimeout(() => abort.abort(), DELAY_MS / 3);
      await expect(sent).rejects.toThrow();
      await waitFor(() => answered > done);
      // The gateway handles the late answer within a moment of the upstream sending it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const lines = logLines().slice(before);
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
      if (name === 'chunked') {
        const gone = lines.filter((line) => /client went away/.test(line.msg));
        expect(gone).toHaveLength(1);
        expect(gone[0].level).toBe(20);
        expect(JSON.stringify(gone[0])).not.toMatch(/stack|\n {4}at /);
      }
    },
  );

  it.each(['', 'with response scanning'])(
    'a call answered as an event stream %s: the client hanging up mid-stream closes the upstream and the gateway serves on',
    async (mode) => {
      const target = mode ? scanning! : gateway;
      const closed = streamClosed;
      const abort = new AbortController();
      const response = await callTool(`${target.url}/mcp/streaming`, 7, 'slow', abort.signal);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read(); // the stream is flowing through the gateway
      abort.abort();
      await waitFor(() => streamClosed > closed);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(target.child.exitCode).toBeNull();
      expect(target.child.signalCode).toBeNull();
      const health = await fetch(`${target.url}/healthz`);
      expect(health.status).toBe(200);
      if (!mode) {
        // The call's one audit record says the client went away (the response's `close`, not its answer).
        const records = (await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8'))
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((event) => event.request_id === '7');
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({
          type: 'tool_call.allowed',
          tool: 'slow',
          outcome: 'no_answer',
          error_class: 'client_gone',
        });
      }
    },
  );
});
