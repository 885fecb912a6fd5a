import type { FastifyInstance } from 'fastify';
import { sessionToolsLister } from './admission-listing.js';
import { outcomeOfAnswer, PendingCalls } from '../../../../libs/runtime/src/index.js';
import { admit } from './admission.js';
import { SseUpstreamChannel, StreamableUpstreamChannel, type UpstreamChannel } from './channels.js';
import { errorResponse, ERROR_CODES } from '../../../../libs/runtime/src/index.js';
import { parseClientMessage } from './jsonrpc.js';
import {
  admissionDeps,
  forwardedHeaders,
  resolveUpstream,
  sendError,
  tooManySessions,
  traceHeaders,
  traceOf,
  type RelayDeps,
} from './relay-context.js';
import { sessionBinding } from './session-ids.js';
import type { StatefulSession, StatefulSessions } from './stateful-sessions.js';
import { scanMessageToText } from './response-scan.js';
import { formatSse } from './sse.js';
import { filterToolsAnswer } from './tool-filter.js';
import { UpstreamUnavailableError } from './upstream-client.js';

/**
 * The legacy HTTP+SSE transport (2024-11-05) at `/sse/{upstream}`: a GET opens the client's event stream, whose
 * first event names the message endpoint `/sse/{upstream}/message?sessionId=…`; messages POSTed there are
 * checked and relayed, and every answer travels back on the stream. The upstream may speak either transport.
 * The client's stream lives on this replica, so a load balancer must keep a client on one replica (as for any
 * legacy SSE server).
 */
export function registerSseRoutes(app: FastifyInstance, deps: RelayDeps, sessions: StatefulSessions): void {
  const admission = admissionDeps(deps);
  /** Per session: ids of its `tools/list` requests whose answers are observed for drift, and the observer. */
  const observers = new WeakMap<StatefulSession, Map<string | number, (message: unknown) => unknown>>();

  app.get('/sse/:upstream', async (request, reply) => {
    const upstream = resolveUpstream(deps, request, reply);
    if (!upstream) return reply;
    const principal = request.principal!;
    const owner = { tenant: principal.tenant, credential: principal.id };
    const refusal = sessions.admit(owner);
    if (refusal) return tooManySessions(deps, reply, null, principal, upstream, refusal);
    const trace = traceOf(request.headers, undefined);
    let channel: UpstreamChannel;
    try {
      channel =
        upstream.transport === 'sse'
          ? await SseUpstreamChannel.open(deps.upstreams, upstream, forwardedHeaders(request.headers, trace))
          : new StreamableUpstreamChannel(deps.upstreams, upstream);
    } catch (error) {
      const status = error instanceof UpstreamUnavailableError ? error.status : 502;
      return sendError(
        reply,
        status,
        errorResponse(null, ERROR_CODES.server_unavailable, (error as Error).message),
      );
    }
    const session = sessions.create(
      sessionBinding(principal.tenant, upstream.name, principal.id),
      owner,
      channel,
    );
    traceHeaders(reply, trace);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      traceparent: String(reply.getHeader('traceparent')),
      'x-trace-id': trace.traceId,
    });
    const endpoint = `/sse/${encodeURIComponent(upstream.name)}/message?sessionId=${encodeURIComponent(session.id)}`;
    res.write(formatSse({ event: 'endpoint', data: endpoint }));
    const place = { tenant: principal.tenant, upstream: upstream.name, agent: principal.subject, trace };
    session.listeners.add((message) => {
      let out: unknown = message;
      const id = message.id as string | number | undefined;
      if (id !== undefined && session.filterIds.delete(id)) {
        out = filterToolsAnswer(message, id, deps.policies(principal.tenant), {
          upstream: upstream.name,
          client: session.client,
        }).message;
      }
      const observe =
        id !== undefined && !('method' in message) ? observers.get(session)?.get(id) : undefined;
      if (observe) {
        observers.get(session)!.delete(id!);
        out = observe(out);
      }
      const call = id !== undefined && !('method' in message) ? callsOf(session).take(String(id)) : undefined;
      const data = scanMessageToText(deps, call ? { ...place, call } : place, out);
      call?.settle(outcomeOfAnswer(message));
      if (data !== undefined) res.write(formatSse({ event: 'message', data }));
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      session.close();
      callsOf(session).settleAll({ outcome: 'no_answer', error_class: 'client_gone' });
    });
    channel.onclose = () => {
      callsOf(session).settleAll({ outcome: 'upstream_failed', error_class: 'stream_closed' });
      session.close();
      res.end();
    };
    return reply;
  });

  app.post('/sse/:upstream/message', async (request, reply) => {
    const upstream = resolveUpstream(deps, request, reply);
    if (!upstream) return reply;
    const principal = request.principal!;
    const id = (request.query as { sessionId?: string }).sessionId ?? '';
    const session = sessions.get(id, sessionBinding(principal.tenant, upstream.name, principal.id));
    if (!session) {
      deps.audit(principal.tenant, {
        type: 'request.refused',
        agent: principal.subject,
        server: upstream.name,
        reason: 'unknown or foreign SSE sessionId',
      });
      return sendError(reply, 404, errorResponse(null, ERROR_CODES.session_not_found, 'Session not found'));
    }
    const verdict = await admit(
      admission,
      principal,
      upstream,
      request.headers,
      parseClientMessage(request.body as Buffer),
      session.client,
      {
        states: deps.clientSessions,
        state: deps.clientSessions.get(session.binding, session.id),
        listTools: sessionToolsLister(deps, session, request.headers),
      },
    );
    traceHeaders(reply, verdict.trace);
    if (!verdict.ok) {
      if (verdict.policyDenial) {
        for (const listener of session.listeners) listener(verdict.body as never);
        return reply.code(202).send('Accepted');
      }
      return sendError(reply, verdict.status, verdict.body, verdict.headers);
    }
    if (verdict.client) session.client = verdict.client;
    if (verdict.filterToolsOf !== undefined) session.filterIds.add(verdict.filterToolsOf);
    if (verdict.observeTools && verdict.message.kind === 'request') {
      const pending = observers.get(session) ?? new Map();
      if (pending.size < 100) pending.set(verdict.message.message.id, verdict.observeTools);
      observers.set(session, pending);
    }
    // The answer comes on the session's stream: the call is recorded there, when it passes.
    if (verdict.call) callsOf(session).hold(verdict.call.fields.request_id ?? '', verdict.call);
    try {
      await session.channel.send(
        verdict.message.message as never,
        forwardedHeaders(request.headers, verdict.trace),
      );
    } catch (error) {
      const requestId = verdict.message.kind === 'request' ? verdict.message.message.id : null;
      deps.metrics.relays.inc({
        upstream: upstream.name,
        outcome: 'upstream_error',
      });
      if (verdict.call) {
        callsOf(session).take(verdict.call.fields.request_id ?? '');
        verdict.call.settle({
          outcome: 'upstream_failed',
          error_class: error instanceof UpstreamUnavailableError ? error.errorClass : 'unreachable',
        });
      }
      if (requestId !== null) {
        const failure = errorResponse(requestId, ERROR_CODES.server_unavailable, (error as Error).message);
        for (const listener of session.listeners) listener(failure as never);
      }
    }
    return reply.code(202).send('Accepted');
  });
}

/** Calls in flight on a legacy SSE session, by request id (their answers arrive on the session's stream). */
const pendingCalls = new WeakMap<object, PendingCalls>();
function callsOf(session: object): PendingCalls {
  let calls = pendingCalls.get(session);
  if (!calls) pendingCalls.set(session, (calls = new PendingCalls(1_000)));
  return calls;
}
