import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Upstream } from '../upstreams/upstream.js';
import { admit, type Admitted } from './admission.js';
import { SseUpstreamChannel } from './channels.js';
import { errorResponse, GATEWAY_ERRORS, parseClientMessage } from './jsonrpc.js';
import {
  admissionDeps,
  forwardedHeaders,
  rateHeaders,
  resolveUpstream,
  sendError,
  tooManySessions,
  traceHeaders,
  type RelayDeps,
} from './relay-context.js';
import { sessionBinding, type SessionClaims } from './session-ids.js';
import type { StatefulSessions } from './stateful-sessions.js';
import { formatSse } from './sse.js';
import { filterToolsAnswer, toolFilterStream } from './tool-filter.js';
import {
  scanMessageText,
  scanMessageToText,
  scanning,
  scanningSseStream,
  type ScanPlace,
} from './response-scan.js';
import { traceOf } from './trace.js';
import { UpstreamUnavailableError } from './upstream-client.js';

const MAX_FILTERED_JSON = 16 * 1024 * 1024;
/** JSON answers up to this size are read whole and sent with a Content-Length (one write); larger ones stream. */
const SMALL_JSON = 256 * 1024;
const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/**
 * Streamable HTTP at `/mcp/{upstream}`: POST (messages), GET (the session's server stream), DELETE (end the
 * session). To a streamable HTTP upstream the gateway is stateless: answers — JSON or SSE — are relayed as they
 * arrive (only a `tools/list` answer is rewritten, event by event), and the upstream's session id is handed out
 * wrapped (see `SessionIds`). To a legacy SSE upstream it holds a bridge session in memory.
 */
export function registerStreamableRoutes(
  app: FastifyInstance,
  deps: RelayDeps,
  bridges: StatefulSessions,
): void {
  const admission = admissionDeps(deps);

  app.post('/mcp/:upstream', async (request, reply) => {
    const upstream = resolveUpstream(deps, request, reply);
    if (!upstream) return reply;
    const principal = request.principal!;
    const binding = sessionBinding(principal.tenant, upstream.name, principal.id);
    const sessionHeader = header(request, 'mcp-session-id');
    let claims: SessionClaims | undefined;
    if (sessionHeader && upstream.transport === 'streamable-http') {
      claims = deps.sessions.unwrap(binding, sessionHeader);
      if (!claims) return unknownSession(deps, request, reply, upstream);
    }
    const bridge =
      sessionHeader && upstream.transport === 'sse' ? bridges.get(sessionHeader, binding) : undefined;
    if (sessionHeader && upstream.transport === 'sse' && !bridge)
      return unknownSession(deps, request, reply, upstream);

    const parsed = parseClientMessage(request.body as Buffer);
    const verdict = await admit(
      admission,
      principal,
      upstream,
      request.headers,
      parsed,
      claims?.client ?? bridge?.client,
    );
    traceHeaders(reply, verdict.trace);
    rateHeaders(reply, verdict.rate, deps.config.rateLimit.perTenant?.windowMs);
    if (!verdict.ok) return sendError(reply, verdict.status, verdict.body, verdict.headers);

    if (upstream.transport === 'sse')
      return relayToSseUpstream(deps, bridges, request, reply, upstream, binding, verdict, bridge);

    const started = process.hrtime.bigint();
    let response: Dispatcher.ResponseData;
    try {
      response = await deps.upstreams.request(upstream, {
        method: 'POST',
        headers: {
          ...forwardedHeaders(request.headers, verdict.trace),
          'content-type': 'application/json',
          accept: header(request, 'accept') ?? 'application/json, text/event-stream',
          ...(claims ? { 'mcp-session-id': claims.upstreamSessionId } : {}),
        },
        body: JSON.stringify(verdict.message.message),
      });
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error, verdict);
    }
    deps.metrics.upstreamLatency.observe(
      { upstream: upstream.name },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    copyResponseHeaders(deps, reply, response, binding, verdict.client);
    reply.code(response.statusCode);
    const type = String(response.headers['content-type'] ?? '');
    const filterId = verdict.filterToolsOf;
    const place: ScanPlace = {
      tenant: principal.tenant,
      upstream: upstream.name,
      agent: principal.subject,
      client: verdict.client,
      trace: verdict.trace,
    };
    const scan = scanning(deps);
    if ((filterId !== undefined && response.statusCode === 200) || scan) {
      const context = { upstream: upstream.name, client: verdict.client };
      const policies = deps.policies(principal.tenant);
      if (type.includes('text/event-stream')) {
        tearDownOnClose(reply, response);
        let stream: NodeJS.ReadableStream = response.body;
        if (filterId !== undefined && response.statusCode === 200)
          stream = stream.pipe(toolFilterStream(filterId, policies, context));
        if (scan) stream = stream.pipe(scanningSseStream(deps, place));
        return reply.send(stream);
      }
      if (type.includes('json')) {
        const id = filterId ?? (verdict.message.kind === 'request' ? verdict.message.message.id : null);
        const text = await readBounded(response.body, MAX_FILTERED_JSON);
        if (text === undefined)
          return sendError(
            reply,
            502,
            errorResponse(id, GATEWAY_ERRORS.UPSTREAM_UNAVAILABLE, 'upstream answer too large'),
          );
        try {
          // Parsed at most once (to filter a tools/list answer); the scan reuses that object if it finds something.
          const filtered =
            filterId !== undefined && response.statusCode === 200
              ? filterToolsAnswer(JSON.parse(text), filterId, policies, context).message
              : undefined;
          const body = filtered === undefined ? text : JSON.stringify(filtered);
          const out = scan ? scanMessageText(deps, place, body, filtered) : body;
          return reply.send(out ?? '');
        } catch {
          return sendError(
            reply,
            502,
            errorResponse(id, GATEWAY_ERRORS.UPSTREAM_UNAVAILABLE, 'upstream answered with invalid JSON'),
          );
        }
      }
    }
    const length = Number(response.headers['content-length']);
    if (type.startsWith('application/json') && length <= SMALL_JSON) {
      return reply.send(await response.body.arrayBuffer().then((b) => Buffer.from(b)));
    }
    return relayStream(reply, response);
  });

  app.get('/mcp/:upstream', async (request, reply) => {
    const upstream = resolveUpstream(deps, request, reply);
    if (!upstream) return reply;
    const principal = request.principal!;
    const binding = sessionBinding(principal.tenant, upstream.name, principal.id);
    const sessionHeader = header(request, 'mcp-session-id');
    const trace = traceOf(request.headers, undefined);
    traceHeaders(reply, trace);
    if (upstream.transport === 'sse') {
      const bridge = sessionHeader ? bridges.get(sessionHeader, binding) : undefined;
      if (!bridge) return unknownSession(deps, request, reply, upstream);
      return streamBridge(deps, reply, bridge, {
        tenant: principal.tenant,
        upstream: upstream.name,
        agent: principal.subject,
        client: bridge.client,
        trace,
      });
    }
    let claims: SessionClaims | undefined;
    if (sessionHeader) {
      claims = deps.sessions.unwrap(binding, sessionHeader);
      if (!claims) return unknownSession(deps, request, reply, upstream);
    }
    try {
      const response = await deps.upstreams.request(upstream, {
        method: 'GET',
        headers: {
          ...forwardedHeaders(request.headers, trace),
          accept: header(request, 'accept') ?? 'text/event-stream',
          ...(claims ? { 'mcp-session-id': claims.upstreamSessionId } : {}),
        },
      });
      copyResponseHeaders(deps, reply, response, binding, claims?.client);
      if (scanning(deps) && String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
        const place = {
          tenant: principal.tenant,
          upstream: upstream.name,
          agent: principal.subject,
          client: claims?.client,
          trace,
        };
        tearDownOnClose(reply, response);
        return reply.code(response.statusCode).send(response.body.pipe(scanningSseStream(deps, place)));
      }
      return relayStream(reply.code(response.statusCode), response);
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error);
    }
  });

  app.delete('/mcp/:upstream', async (request, reply) => {
    const upstream = resolveUpstream(deps, request, reply);
    if (!upstream) return reply;
    const principal = request.principal!;
    const binding = sessionBinding(principal.tenant, upstream.name, principal.id);
    const sessionHeader = header(request, 'mcp-session-id');
    if (upstream.transport === 'sse') {
      const bridge = sessionHeader ? bridges.get(sessionHeader, binding) : undefined;
      if (!bridge) return unknownSession(deps, request, reply, upstream);
      bridge.close();
      return reply.code(200).send();
    }
    const claims = sessionHeader ? deps.sessions.unwrap(binding, sessionHeader) : undefined;
    if (!claims) return unknownSession(deps, request, reply, upstream);
    const trace = traceOf(request.headers, undefined);
    traceHeaders(reply, trace);
    try {
      const response = await deps.upstreams.request(upstream, {
        method: 'DELETE',
        headers: { ...forwardedHeaders(request.headers, trace), 'mcp-session-id': claims.upstreamSessionId },
      });
      return reply.code(response.statusCode).send(response.body);
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error);
    }
  });
}

async function relayToSseUpstream(
  deps: RelayDeps,
  bridges: StatefulSessions,
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  binding: string,
  verdict: Admitted,
  existing: ReturnType<StatefulSessions['get']>,
): Promise<FastifyReply> {
  const parsed = verdict.message;
  const id = parsed.kind === 'request' ? parsed.message.id : null;
  const principal = request.principal!;
  let bridge = existing;
  if (!bridge) {
    if (parsed.kind !== 'request' || parsed.message.method !== 'initialize') {
      // A 2026-07-28 client probing a legacy upstream learns here to fall back to initialize.
      return sendError(
        reply,
        400,
        verdict.modern
          ? errorResponse(
              id,
              GATEWAY_ERRORS.UNSUPPORTED_PROTOCOL_VERSION,
              'Unsupported protocol version: this upstream speaks the session-based revisions',
              { supported: LEGACY_VERSIONS },
            )
          : errorResponse(id, GATEWAY_ERRORS.INVALID_REQUEST, 'Bad Request: initialize first (no session)'),
      );
    }
    const owner = { tenant: principal.tenant, credential: principal.id };
    const refusal = bridges.admit(owner);
    if (refusal) return tooManySessions(deps, reply, id, principal, upstream, refusal);
    try {
      const channel = await SseUpstreamChannel.open(
        deps.upstreams,
        upstream,
        forwardedHeaders(request.headers, verdict.trace),
      );
      bridge = bridges.create(binding, owner, channel, verdict.client);
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error, verdict);
    }
  }
  const headers = forwardedHeaders(request.headers, verdict.trace);
  if (parsed.kind !== 'request') {
    try {
      await bridge.channel.send(parsed.message as never, headers);
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error, verdict);
    }
    return reply.code(202).send();
  }
  const answer = bridge.answerTo(parsed.message.id, deps.config.upstreamTimeoutMs);
  try {
    await bridge.channel.send(parsed.message as never, headers);
  } catch (error) {
    bridge.pending.delete(parsed.message.id);
    return upstreamFailure(deps, reply, upstream, error, verdict);
  }
  const message = await answer;
  if (!message || 'closed' in message) {
    return sendError(
      reply,
      504,
      errorResponse(id, GATEWAY_ERRORS.UPSTREAM_UNAVAILABLE, `upstream "${upstream.name}" did not answer`),
    );
  }
  const out =
    verdict.filterToolsOf !== undefined
      ? filterToolsAnswer(message, verdict.filterToolsOf, deps.policies(request.principal!.tenant), {
          upstream: upstream.name,
          client: bridge.client,
        }).message
      : message;
  const place = {
    tenant: principal.tenant,
    upstream: upstream.name,
    agent: principal.subject,
    client: bridge.client,
    trace: verdict.trace,
  };
  const text = scanMessageToText(deps, place, out);
  if (parsed.message.method === 'initialize') reply.header('mcp-session-id', bridge.id);
  return reply.code(200).header('content-type', 'application/json').send(text);
}

/** The bridge's server-to-client messages (requests and notifications not answering a POST) as an SSE stream. */
function streamBridge(
  deps: RelayDeps,
  reply: FastifyReply,
  bridge: NonNullable<ReturnType<StatefulSessions['get']>>,
  place: ScanPlace,
): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  const listener = (message: Record<string, unknown>) => {
    const data = scanMessageToText(deps, place, message);
    if (data !== undefined) res.write(formatSse({ event: 'message', data }));
  };
  bridge.listeners.add(listener);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  res.on('close', () => {
    clearInterval(keepAlive);
    bridge.listeners.delete(listener);
  });
  return reply;
}

function copyResponseHeaders(
  deps: RelayDeps,
  reply: FastifyReply,
  response: Dispatcher.ResponseData,
  binding: string,
  client?: string,
): void {
  for (const name of [
    'content-type',
    'mcp-protocol-version',
    'cache-control',
    'x-accel-buffering',
    'retry-after',
    'allow',
    'www-authenticate',
  ]) {
    const value = response.headers[name];
    if (typeof value === 'string') reply.header(name, value);
  }
  const session = response.headers['mcp-session-id'];
  if (typeof session === 'string' && session.length <= 1024) {
    reply.header('mcp-session-id', deps.sessions.wrap(binding, { upstreamSessionId: session, client }));
  }
}

function unknownSession(
  deps: RelayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
): FastifyReply {
  const principal = request.principal!;
  deps.audit(principal.tenant, {
    type: 'request.refused',
    agent: principal.subject,
    server: upstream.name,
    method: request.method === 'POST' ? undefined : `HTTP ${request.method}`,
    reason: 'unknown or foreign Mcp-Session-Id',
  });
  deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'refused' });
  return sendError(reply, 404, errorResponse(null, GATEWAY_ERRORS.SESSION_NOT_FOUND, 'Session not found'));
}

function upstreamFailure(
  deps: RelayDeps,
  reply: FastifyReply,
  upstream: Upstream,
  error: unknown,
  verdict?: Admitted,
): FastifyReply {
  const id = verdict?.message.kind === 'request' ? verdict.message.message.id : null;
  const known = error instanceof UpstreamUnavailableError;
  deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'upstream_error' });
  if ((error as Error).name === 'AbortError') return reply; // the client went away
  deps.logger.warn(
    { tenant: upstream.tenant, upstream: upstream.name, error: (error as Error).message },
    'upstream failed',
  );
  const status = known ? error.status : 502;
  const headers: Record<string, string> =
    known && error.retryAfterSeconds ? { 'retry-after': String(error.retryAfterSeconds) } : {};
  return sendError(
    reply,
    status,
    errorResponse(
      id,
      GATEWAY_ERRORS.UPSTREAM_UNAVAILABLE,
      known ? error.message : `upstream "${upstream.name}" failed`,
    ),
    headers,
  );
}

/**
 * Relays an upstream answer as it arrives (SSE streams, large bodies). If the client goes away first, the
 * upstream exchange is torn down too, so a closed client never leaves an upstream stream open.
 */
function relayStream(reply: FastifyReply, response: Dispatcher.ResponseData): FastifyReply {
  tearDownOnClose(reply, response);
  return reply.send(response.body);
}

function tearDownOnClose(reply: FastifyReply, response: Dispatcher.ResponseData): void {
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) response.body.destroy();
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}

async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
