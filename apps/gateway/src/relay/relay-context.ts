import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { GatewayConfig } from '../config/config.js';
import type { GatewayMetrics } from '../http/metrics.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import type { RateDecision, RateLimiter } from '../rate-limit/rate-limiter.js';
import type { UpstreamRegistry } from '../upstreams/registry.js';
import { UPSTREAM_NAME, type Upstream } from '../upstreams/upstream.js';
import type { AdmissionDeps } from './admission.js';
import {
  continueTrace,
  errorResponse,
  newTrace,
  ERROR_CODES,
  traceparentOf,
  type JsonRpcResponse,
  type TraceContext,
} from '../../../../libs/runtime/src/index.js';
import type { ClientSessionStates } from './admission-session.js';
import type { SessionIds } from './session-ids.js';
import type { SessionRefusal } from './stateful-sessions.js';
import type { UpstreamClient } from './upstream-client.js';

/** Everything the relay routes need, built once at start. */
export interface RelayDeps {
  config: GatewayConfig;
  registry: UpstreamRegistry;
  authenticator: Authenticator;
  limiter?: RateLimiter;
  policies(tenant: string): readonly LoadedPolicy[];
  audit(tenant: string, event: GatewayAuditEvent): void;
  /**
   * Whether anything takes the tenant's plain allowed-call events (an audit file or a control plane); when not,
   * they are counted only, so their parts (the argument fingerprint, the answer's outcome) are not worked out.
   * Absent: taken.
   */
  keepsAllowedCalls?(tenant: string): boolean;
  upstreams: UpstreamClient;
  sessions: SessionIds;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Per client session: replay memory and the upstream's listed tools (`admission-session.ts`). */
  clientSessions: ClientSessionStates;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function admissionDeps(deps: RelayDeps): AdmissionDeps {
  return {
    limiter: deps.limiter,
    perTenant: deps.config.rateLimit.perTenant,
    perTool: deps.config.rateLimit.perTool,
    policies: deps.policies,
    audit: deps.audit,
    keepsAllowedCalls: deps.keepsAllowedCalls,
    metrics: deps.metrics,
    argumentDetectors: deps.config.argumentDetectors,
  };
}

/** Sends a JSON-RPC error with an HTTP status (never a stack trace, never upstream internals). */
export function sendError(
  reply: FastifyReply,
  status: number,
  body: JsonRpcResponse,
  headers: Record<string, string> = {},
): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  reply.header('x-content-type-options', 'nosniff');
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
}

/**
 * The trace of one client message: the caller's (the `traceparent` header, else `params._meta.traceparent`)
 * continued with a span for the gateway hop, or a new one (libs/runtime).
 */
export function traceOf(headers: FastifyRequest['headers'], meta?: unknown): TraceContext {
  const fromMeta =
    meta && typeof meta === 'object' ? (meta as Record<string, unknown>).traceparent : undefined;
  const fromHeader = headers.traceparent;
  // Neither given (most calls): what `continueTrace` ends in, without its array of candidates.
  if (fromHeader === undefined && fromMeta === undefined) return newTrace();
  return continueTrace([fromHeader, fromMeta], headers.tracestate);
}

/** Trace headers on every relay answer (and `nosniff`, set here to spare a per-request hook). */
export function traceHeaders(reply: FastifyReply, trace: TraceContext): void {
  reply.header('traceparent', traceparentOf(trace));
  reply.header('x-trace-id', trace.traceId);
  reply.header('x-content-type-options', 'nosniff');
}

/** `RateLimit-*` (IETF draft) headers, and `Retry-After` on a refusal. */
export function rateHeaders(
  reply: FastifyReply,
  rate: RateDecision | undefined,
  windowMs: number | undefined,
): void {
  if (!rate) return;
  reply.header('ratelimit-limit', String(rate.limit));
  reply.header('ratelimit-remaining', String(rate.remaining));
  reply.header('ratelimit-reset', String(Math.max(0, Math.ceil(rate.resetMs / 1000))));
  if (windowMs) reply.header('ratelimit-policy', `${rate.limit};w=${Math.round(windowMs / 1000)}`);
}

/**
 * The upstream the caller's tenant calls `name`, or a 404. Never another tenant's upstream of the same name, and
 * the answer for "exists for another tenant" is the same 404 as "exists nowhere", so nothing is confirmed.
 */
export function resolveUpstream(
  deps: RelayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Upstream | undefined {
  const principal = request.principal!;
  const name = (request.params as { upstream?: string }).upstream ?? '';
  const upstream = UPSTREAM_NAME.test(name) ? deps.registry.get(principal.tenant, name) : undefined;
  if (upstream) return upstream;
  deps.audit(principal.tenant, {
    type: 'request.refused',
    agent: principal.subject,
    server: UPSTREAM_NAME.test(name) ? name : undefined,
    reason: 'unknown upstream for this tenant',
  });
  deps.metrics.relays.inc({ upstream: '(unknown)', outcome: 'refused' });
  sendError(
    reply,
    404,
    errorResponse(
      null,
      ERROR_CODES.unknown_upstream,
      `no upstream named "${UPSTREAM_NAME.test(name) ? name : '?'}"`,
    ),
  );
  return undefined;
}

/** Headers passed to the upstream from the client: protocol and trace only; never the client's credential. */
export function forwardedHeaders(
  headers: FastifyRequest['headers'],
  trace: TraceContext,
): Record<string, string> {
  const out: Record<string, string> = { traceparent: traceparentOf(trace) };
  if (trace.tracestate) out.tracestate = trace.tracestate;
  // `for…in` over Node's plain header object (nothing enumerable inherited): no array of pairs per request.
  for (const name in headers) {
    if (
      name === 'mcp-protocol-version' ||
      name === 'mcp-method' ||
      name === 'mcp-name' ||
      name === 'last-event-id' ||
      name.startsWith('mcp-param-')
    ) {
      const value = headers[name];
      if (typeof value === 'string') out[name] = value;
    }
  }
  return out;
}

/** The replica holds as many stateful sessions as it may: come back later (another replica may have room). */
export function tooManySessions(
  deps: RelayDeps,
  reply: FastifyReply,
  id: string | number | null,
  principal: Principal,
  upstream: Upstream,
  refusal: SessionRefusal,
): FastifyReply {
  deps.audit(principal.tenant, {
    type: 'rate_limit.exceeded',
    agent: principal.subject,
    server: upstream.name,
    reason: refusal.reason,
  });
  deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'rate_limited' });
  return sendError(
    reply,
    refusal.status,
    errorResponse(
      id,
      refusal.status === 503 ? ERROR_CODES.server_unavailable : ERROR_CODES.rate_limited,
      refusal.reason,
    ),
    { 'retry-after': String(refusal.retryAfterSeconds) },
  );
}
