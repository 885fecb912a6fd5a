import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * The benchmark's upstream, run as its own process: `node upstream.js PORT [sdk|minimal]`; prints
 * `listening PORT`. `sdk`: a real MCP server (SDK 1.x `McpServer`) over stateless streamable HTTP with JSON
 * answers and one `echo` tool; it costs about 0.5 ms of CPU a call, so on a small machine it is the
 * bottleneck of both paths. `minimal` (default): a hand-written stateless streamable HTTP MCP server answering
 * `initialize`, `tools/list` and `tools/call echo` in microseconds, so the figures show the gateway's own cost.
 */
const MODE = process.argv[3] ?? 'minimal';

function minimal(body: {
  id?: unknown;
  method?: string;
  params?: { arguments?: { message?: unknown } };
}): unknown {
  const result =
    body.method === 'initialize'
      ? {
          protocolVersion: '2025-11-25',
          capabilities: { tools: {} },
          serverInfo: { name: 'bench-minimal', version: '1.0.0' },
        }
      : body.method === 'tools/list'
        ? {
            tools: [
              { name: 'echo', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
            ],
          }
        : body.method === 'tools/call'
          ? { content: [{ type: 'text', text: String(body.params?.arguments?.message ?? '') }] }
          : {};
  return { jsonrpc: '2.0', id: body.id, result };
}
function server(): McpServer {
  const mcp = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  mcp.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  return mcp;
}

const httpServer = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (MODE === 'minimal') {
      // Like the SDK's stateless server: no standalone SSE stream (405 on GET), 202 for notifications, and a
      // JSON answer with Content-Length (not chunked).
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-length': '0' }).end();
        return;
      }
      let body: Parameters<typeof minimal>[0];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-length': '0' }).end();
        return;
      }
      if (body.id === undefined) return void res.writeHead(202, { 'content-length': '0' }).end();
      const text = JSON.stringify(minimal(body));
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        .end(text);
      return;
    }
    void (async () => {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      const mcp = server();
      res.on('close', () => void mcp.close());
      await mcp.connect(transport);
      const text = Buffer.concat(chunks).toString('utf8');
      await transport.handleRequest(req, res, text ? JSON.parse(text) : undefined);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
});
httpServer.keepAliveTimeout = 65_000;
httpServer.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = httpServer.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
