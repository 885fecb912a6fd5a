import type { FastifyReply, FastifyRequest } from 'fastify';
import { outcomeOfAnswer } from '../../../../libs/runtime/src/index.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { Admitted } from './admission.js';
import { SseUpstreamChannel } from './channels.js';
import { errorResponse, ERROR_CODES } from '../../../../libs/runtime/src/index.js';
import { forwardedHeaders, sendError, tooManySessions, type RelayDeps } from './relay-context.js';
import { scanMessageToText, type ScanPlace } from './response-scan.js';
import { formatSse } from './sse.js';
import type { StatefulSessions } from './stateful-sessions.js';
import { filterToolsAnswer } from './tool-filter.js';
import { upstreamFailure } from './upstream-answers.js';

/** The revisions a legacy upstream speaks: named to a 2026-07-28 client so it can fall back to initialize. */
const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/**
 * A streamable HTTP client's POST to a legacy SSE upstream: the gateway holds a bridge session in memory
 * (`StatefulSessions`, opened by `initialize`); a request's answer is matched by id on the upstream's stream and
 * sent as the POST's JSON answer, and everything else the upstream sends reaches the client on its GET stream.
 */
export async function relayToSseUpstream(
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
      verdict.call?.settle({ type: 'request.refused', reason: 'no bridge session: initialize first' });
      // A 2026-07-28 client probing a legacy upstream learns here to fall back to initialize.
      return sendError(
        reply,
        400,
        verdict.modern
          ? errorResponse(
              id,
              ERROR_CODES.unsupported_protocol_version,
              'Unsupported protocol version: this upstream speaks the session-based revisions',
              { supported: LEGACY_VERSIONS },
            )
          : errorResponse(id, ERROR_CODES.invalid_request, 'Bad Request: initialize first (no session)'),
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
    verdict.call?.settle({
      outcome: 'upstream_failed',
      error_class: message ? 'session_closed' : 'timeout',
    });
    return sendError(
      reply,
      504,
      errorResponse(id, ERROR_CODES.server_unavailable, `upstream "${upstream.name}" did not answer`),
    );
  }
  const filtered =
    verdict.filterToolsOf !== undefined
      ? filterToolsAnswer(message, verdict.filterToolsOf, deps.policies(request.principal!.tenant), {
          upstream: upstream.name,
          client: bridge.client,
        }).message
      : message;
  const out = verdict.observeTools ? verdict.observeTools(filtered) : filtered;
  const place = {
    tenant: principal.tenant,
    upstream: upstream.name,
    agent: principal.subject,
    client: bridge.client,
    trace: verdict.trace,
    call: verdict.call,
  };
  const text = scanMessageToText(deps, place, out);
  verdict.call?.settle(outcomeOfAnswer(message));
  if (parsed.message.method === 'initialize') reply.header('mcp-session-id', bridge.id);
  return reply.code(200).header('content-type', 'application/json').send(text);
}

/** The bridge's server-to-client messages (requests and notifications not answering a POST) as an SSE stream. */
export function streamBridge(
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
