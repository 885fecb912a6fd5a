import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface HttpMcpServer {
  /** Base URL, e.g. `http://127.0.0.1:PORT`; streamable HTTP at `/mcp`, legacy SSE at `/sse`. */
  url: string;
  /** Every JSON-RPC method received, in order, over both transports. */
  methods: string[];
  /** The Authorization header of every HTTP request received. */
  authorizations: Array<string | undefined>;
  /** The `traceparent` header of every HTTP request received. */
  traceparents: Array<string | undefined>;
  /** Every request path with its query string. */
  paths: string[];
  close(): Promise<void>;
}

/**
 * A real MCP server (SDK `Server`) on 127.0.0.1 with an ephemeral port, speaking streamable HTTP (stateless)
 * on `/mcp` and legacy SSE on `/sse` + `/messages`. It records what it receives so tests can prove what a
 * client sent (and did not send).
 */
export async function startHttpMcpServer(
  options: {
    tools?: string[];
    streamable?: boolean;
    sse?: boolean;
    requireAuthorization?: string;
    name?: string;
    /** The text every tools/call answers with (default `called`). */
    answer?: string;
    /** Tools that answer only after this many milliseconds (to see what happens before an answer). */
    slow?: { tools: string[]; ms: number };
  } = {},
): Promise<HttpMcpServer> {
  const tools = options.tools ?? ['search', 'fetch'];
  const methods: string[] = [];
  const authorizations: Array<string | undefined> = [];
  const traceparents: Array<string | undefined> = [];
  const paths: string[] = [];
  const sseSessions = new Map<string, SSEServerTransport>();

  const mcpServer = () => {
    const server = new Server(
      { name: options.name ?? 'http-test-server', version: '9.9.9' },
      { capabilities: { tools: {} } },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: tools.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      if (options.slow?.tools.includes(request.params.name))
        await new Promise((resolve) => setTimeout(resolve, options.slow!.ms));
      return { content: [{ type: 'text', text: options.answer ?? 'called' }] };
    });
    return server;
  };
  const record = (transport: Transport) => {
    const handle = transport.onmessage;
    transport.onmessage = (message, extra) => {
      methods.push('method' in message ? message.method : 'response');
      handle?.(message, extra);
    };
  };

  const httpServer = http.createServer(async (req, res) => {
    paths.push(req.url ?? '');
    authorizations.push(req.headers.authorization);
    traceparents.push(req.headers.traceparent?.toString());
    if (options.requireAuthorization && req.headers.authorization !== options.requireAuthorization) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="test"' }).end('{"error":"unauthorized"}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/mcp' && options.streamable !== false) {
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        const server = mcpServer();
        await server.connect(transport);
        record(transport);
        res.on('close', () => void server.close());
        await transport.handleRequest(req, res);
        return;
      }
      // A legacy server answers only SSE, at whatever path it is configured under.
      const legacyHere = url.pathname === '/sse' || (url.pathname === '/mcp' && options.streamable === false);
      if (legacyHere && req.method === 'GET' && options.sse !== false) {
        const transport = new SSEServerTransport('/messages', res);
        sseSessions.set(transport.sessionId, transport);
        res.on('close', () => sseSessions.delete(transport.sessionId));
        await mcpServer().connect(transport);
        record(transport);
        return;
      }
      if (url.pathname === '/messages' && req.method === 'POST') {
        const transport = sseSessions.get(url.searchParams.get('sessionId') ?? '');
        if (!transport) {
          res.writeHead(404).end();
          return;
        }
        await transport.handlePostMessage(req, res);
        return;
      }
      res.writeHead(url.pathname === '/mcp' ? 405 : 404).end();
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    methods,
    authorizations,
    traceparents,
    paths,
    close: () =>
      new Promise((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  };
}
