import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { writeModernAndLegacyOverlay } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';

/**
 * Response scanning on the gateway's stateful paths, which the decision vectors (streamable HTTP, SSE answers)
 * do not reach: a legacy SSE client (answers travel on its GET stream) and a streamable HTTP client bridged to a
 * legacy SSE upstream. Real SDK clients, a real SDK server that answers with a planted (documented example) key.
 */
const TOKEN = 'response-scanning-bearer-0123456789';
const PLANTED = 'AKIAIOSFODNN7EXAMPLE';

describe('gateway --detect-credentials on legacy SSE paths', () => {
  let mcp: HttpMcpServer;
  let gateway: RunningGateway;
  let dir: string;
  const headers = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    mcp = await startHttpMcpServer({ tools: ['leak'], answer: `the key is ${PLANTED}` });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-gw-scan-'));
    const overlay = await writeModernAndLegacyOverlay(dir, mcp.url);
    gateway = await startGateway(
      { bind: '127.0.0.1:0', upstreams: overlay, egressAllow: ['127.0.0.1/32'], detectCredentials: true },
      { LOG_LEVEL: 'silent', AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN },
      () => undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await mcp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const callLeak = async (client: Client) => {
    const result = await client.callTool({ name: 'leak', arguments: {} });
    await client.close();
    return JSON.stringify(result);
  };

  it('a legacy SSE client gets the answer redacted on its stream', async () => {
    const client = new Client({ name: 'legacy-client', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(`${gateway.url}/sse/modern`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      }),
    );
    const text = await callLeak(client);
    expect(text).not.toContain(PLANTED);
    expect(text).toContain('[REDACTED:aws_access_key_id]');
  });

  it('a streamable HTTP client bridged to a legacy SSE upstream gets the answer redacted', async () => {
    const client = new Client({ name: 'modern-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/legacy`), { requestInit: { headers } }),
    );
    const text = await callLeak(client);
    expect(text).not.toContain(PLANTED);
    expect(text).toContain('[REDACTED:aws_access_key_id]');
  });
});
