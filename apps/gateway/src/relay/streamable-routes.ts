import type { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { streamableToolsLister, sessionToolsLister } from './admission-listing.js';
import { admit } from './admission.js';
import { errorResponse, ERROR_CODES } from '../../../../libs/runtime/src/index.js';
import { parseClientMessage } from './jsonrpc.js';
import { answerTap, settleFromJson, settleOnClose } from './call-outcome.js';
import { relayToSseUpstream, streamBridge } from './legacy-bridge.js';
import {
  admissionDeps,
  forwardedHeaders,
  rateHeaders,
  resolveUpstream,
  sendError,
  traceHeaders,
  traceOf,
  type RelayDeps,
} from './relay-context.js';
import { scanMessageText, scanning, scanningSseStream, type ScanPlace } from './response-scan.js';
import { sessionBinding, type SessionClaims } from './session-ids.js';
import type { StatefulSessions } from './stateful-sessions.js';
import { filterToolsAnswer, toolFilterStream, toolsObserverStream } from './tool-filter.js';
import {
  copyResponseHeaders,
  header,
  readBoundedBytes,
  relayStream,
  unknownSession,
  upstreamFailure,
} from './upstream-answers.js';

const MAX_FILTERED_JSON = 16 * 1024 * 1024;
/** JSON answers up to this size are read whole and sent with a Content-Length (one write); larger ones stream. */
const SMALL_JSON = 256 * 1024;

/**
 * Streamable HTTP at `/mcp/{upstream}`: POST (messages), GET (the session's server stream), DELETE (end the
 * session). To a streamable HTTP upstream the gateway is stateless: answers — JSON or SSE — are relayed as they
 * arrive (only a `tools/list` answer is rewritten, event by event), and the upstream's session id is handed out
 * wrapped (see `SessionIds`). To a legacy SSE upstream it holds a bridge session in memory (`legacy-bridge.ts`).
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
    const session = {
      states: deps.clientSessions,
      state: deps.clientSessions.get(binding, claims || bridge ? sessionHeader : undefined),
      listTools:
        upstream.transport === 'sse'
          ? sessionToolsLister(deps, bridge, request.headers)
          : streamableToolsLister(deps, upstream, request.headers, claims?.upstreamSessionId),
    };
    const admitting = admit(
      admission,
      principal,
      upstream,
      request.headers,
      parsed,
      claims?.client ?? bridge?.client,
      session,
    );
    // Awaited only when a step waits (tool gate, rate limits): an await of a ready verdict is a microtask turn.
    const verdict = admitting instanceof Promise ? await admitting : admitting;
    traceHeaders(reply, verdict.trace);
    rateHeaders(reply, verdict.rate, deps.config.rateLimit.perTenant?.windowMs);
    if (!verdict.ok) return sendError(reply, verdict.status, verdict.body, verdict.headers);

    if (upstream.transport === 'sse')
      return relayToSseUpstream(deps, bridges, request, reply, upstream, binding, verdict, bridge);

    // One header object, filled in place (forwardedHeaders never holds the three names set here).
    const headers = forwardedHeaders(request.headers, verdict.trace);
    headers['content-type'] = 'application/json';
    headers.accept = header(request, 'accept') ?? 'application/json, text/event-stream';
    if (claims) headers['mcp-session-id'] = claims.upstreamSessionId;
    const started = process.hrtime.bigint();
    let response: Dispatcher.ResponseData;
    try {
      response = await deps.upstreams.request(upstream, {
        method: 'POST',
        headers,
        body:
          verdict.message.kind === 'request' ? verdict.message.text : JSON.stringify(verdict.message.message),
      });
    } catch (error) {
      return upstreamFailure(deps, reply, upstream, error, verdict);
    }
    deps.metrics.upstreamLatency.observe(
      { upstream: upstream.name },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    const call = verdict.call;
    if (call && response.statusCode >= 400)
      call.settle({ outcome: 'upstream_failed', error_class: `http_${response.statusCode}` });
    settleOnClose(call, reply);
    copyResponseHeaders(deps, reply, response, binding, verdict.client);
    reply.code(response.statusCode);
    const type = String(response.headers['content-type'] ?? '');
    const filterId = verdict.filterToolsOf;
    const observe = response.statusCode === 200 ? verdict.observeTools : undefined;
    const place: ScanPlace = {
      tenant: principal.tenant,
      upstream: upstream.name,
      agent: principal.subject,
      client: verdict.client,
      trace: verdict.trace,
      call,
    };
    const scan = scanning(deps);
    if ((filterId !== undefined && response.statusCode === 200) || observe || scan) {
      const context = { upstream: upstream.name, client: verdict.client };
      const policies = deps.policies(principal.tenant);
      if (type.includes('text/event-stream')) {
        const stages: Transform[] = [];
        if (filterId !== undefined && response.statusCode === 200)
          stages.push(toolFilterStream(filterId, policies, context));
        if (observe) stages.push(toolsObserverStream(observe));
        if (scan) stages.push(scanningSseStream(deps, place));
        if (call) stages.push(answerTap(call));
        return relayStream(reply, response, stages);
      }
      if (type.includes('json')) {
        const id = filterId ?? (verdict.message.kind === 'request' ? verdict.message.message.id : null);
        // The bytes' promise awaited here, decoded after (an async `readBounded` was two promises more).
        const text = (await readBoundedBytes(response.body, MAX_FILTERED_JSON))?.toString('utf8');
        if (text === undefined) {
          call?.settle({ outcome: 'upstream_failed', error_class: 'response_too_large' });
          return sendError(
            reply,
            502,
            errorResponse(id, ERROR_CODES.server_unavailable, 'upstream answer too large'),
          );
        }
        try {
          // Parsed at most once (to filter a tools/list answer); the scan reuses that object if it finds something.
          let filtered =
            filterId !== undefined && response.statusCode === 200
              ? filterToolsAnswer(JSON.parse(text), filterId, policies, context).message
              : undefined;
          if (observe) {
            // Observed for drift; re-serialised only when filtered or when drifted tools were withheld.
            const seen: unknown = filtered ?? JSON.parse(text);
            const next = observe(seen);
            if (next !== seen || filtered !== undefined) filtered = next;
          }
          const body = filtered === undefined ? text : JSON.stringify(filtered);
          const out = scan ? scanMessageText(deps, place, body, filtered) : body;
          settleFromJson(call, text);
          // Sent before the handler returns: nothing is returned to Fastify (see the plain JSON answer below).
          reply.send(out ?? '');
          return reply.sent ? undefined : reply;
        } catch {
          call?.settle({ outcome: 'upstream_failed', error_class: 'invalid_json' });
          return sendError(
            reply,
            502,
            errorResponse(id, ERROR_CODES.server_unavailable, 'upstream answered with invalid JSON'),
          );
        }
      }
    }
    const length = Number(response.headers['content-length']);
    if (type.startsWith('application/json') && (length <= SMALL_JSON || call)) {
      // A call's answer is read whole (bounded) to record its outcome; other small answers for one write.
      const body = await readBoundedBytes(response.body, MAX_FILTERED_JSON);
      if (body === undefined) {
        call?.settle({ outcome: 'upstream_failed', error_class: 'response_too_large' });
        const id = verdict.message.kind === 'request' ? verdict.message.message.id : null;
        return sendError(
          reply,
          502,
          errorResponse(id, ERROR_CODES.server_unavailable, 'upstream answer too large'),
        );
      }
      settleFromJson(call, body);
      if (reply.raw.destroyed) {
        deps.logger.debug({ upstream: upstream.name }, 'client went away before its answer');
        return reply;
      }
      // Sent whole before the handler returns: the handler's promise then resolves to nothing, not to the reply
      // (a thenable, resolved through `reply.then`: one more microtask job per request). Should an asynchronous
      // onSend hook ever hold the send, the reply is returned as before, so Fastify waits for it.
      reply.send(body);
      return reply.sent ? undefined : reply;
    }
    if (call && type.includes('text/event-stream')) {
      return relayStream(reply, response, [answerTap(call)]);
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
        return relayStream(reply.code(response.statusCode), response, [scanningSseStream(deps, place)]);
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
