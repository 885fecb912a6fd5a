import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { writeModernAndLegacyOverlay } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { waitFor } from '../helpers/processes.js';

/**
 * The session steps (replay, undeclared tools) on the gateway's stateful paths, which the decision vectors
 * (streamable HTTP to a streamable upstream) do not reach: a legacy SSE client (the gateway lists the tools
 * through the client's own session, answers travel on its stream) and a streamable HTTP client bridged to a
 * legacy SSE upstream. Real SDK clients in front, a real SDK server behind.
 */
const TOKEN = 'session-steps-bearer-0123456789';

describe('gateway session steps on legacy SSE paths', () => {
  let mcp: HttpMcpServer;
  let gateway: RunningGateway;
  let dir: string;
  const headers = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    mcp = await startHttpMcpServer({ tools: ['search'] });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-steps-'));
    const overlay = await writeModernAndLegacyOverlay(dir, mcp.url);
    gateway = await startGateway(
      { bind: '127.0.0.1:0', upstreams: overlay, egressAllow: ['127.0.0.1/32'], blockUndeclared: true },
      { LOG_LEVEL: 'silent', AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN },
      () => undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await mcp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const legacyClient = async () => {
    const client = new Client({ name: 'legacy-client', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(`${gateway.url}/sse/modern`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      }),
    );
    return client;
  };

  const bridgedClient = async () => {
    const client = new Client({ name: 'modern-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/legacy`), { requestInit: { headers } }),
    );
    return client;
  };

  it.each([
    ['a legacy SSE client', legacyClient],
    ['a streamable HTTP client bridged to a legacy SSE upstream', bridgedClient],
  ])('%s: an undeclared tool is refused before anyone listed, a declared one passes', async (_name, open) => {
    const client = await open();
    try {
      await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toMatchObject({
        code: -32011,
        message: expect.stringContaining(`tool "nope" is not declared by the server's tools/list`),
      });
      const result = await client.callTool({ name: 'search', arguments: { q: 'x' } });
      expect(JSON.stringify(result)).toContain('called');
    } finally {
      await client.close();
    }
  });

  it('a legacy SSE client that sends the same id and payload again gets -32012 on its stream', async () => {
    const client = await legacyClient();
    try {
      const transport = (client as unknown as { transport: Transport }).transport;
      const seen: Array<{ id?: unknown; error?: { code: number }; result?: unknown }> = [];
      const original = transport.onmessage;
      transport.onmessage = (message, extra) => {
        seen.push(message as (typeof seen)[number]);
        original?.(message, extra);
      };
      client.onerror = () => undefined; // the SDK client does not know the id we send by hand
      const call = {
        jsonrpc: '2.0' as const,
        id: 'by-hand-1',
        method: 'tools/call',
        params: { name: 'search', arguments: { q: 'same' } },
      };
      await transport.send(call);
      await waitFor(() => seen.some((m) => m.id === 'by-hand-1'), 10_000);
      await transport.send({ ...call, params: { ...call.params, _meta: { progressToken: 7 } } });
      await waitFor(() => seen.filter((m) => m.id === 'by-hand-1').length === 2, 10_000);
      const [first, second] = seen.filter((m) => m.id === 'by-hand-1');
      expect(first!.result).toBeDefined();
      expect(second!.error?.code).toBe(-32012);
    } finally {
      await client.close();
    }
  });
});
