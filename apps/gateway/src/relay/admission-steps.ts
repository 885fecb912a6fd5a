import type { IncomingHttpHeaders } from 'node:http';
import {
  errorResponse,
  ERROR_CODES,
  namesRequestMethod,
  toolCallShapeError,
  traceparentOf,
  withMetaMembers,
  type ArgumentDetectorMode,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type TraceContext,
  type CallRecord,
} from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import type { Rate } from '../config/rate.js';
import type { GatewayMetrics } from '../http/metrics.js';
import type { LoadedPolicy } from '../policy/loaded-policy.js';
import type { RateDecision, RateLimiter } from '../rate-limit/rate-limiter.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { ClientMessage } from './jsonrpc.js';
import { checkStandardHeaders, type HeaderCheck } from './standard-headers.js';

export interface AdmissionDeps {
  limiter?: RateLimiter;
  perTenant?: Rate;
  perTool?: Rate;
  policies(tenant: string): readonly LoadedPolicy[];
  audit(tenant: string, event: GatewayAuditEvent): void;
  /** See `RelayDeps.keepsAllowedCalls`. */
  keepsAllowedCalls?(tenant: string): boolean;
  metrics: GatewayMetrics;
  /** `--argument-detectors`: the same step the proxy runs (libs/runtime). */
  argumentDetectors: ArgumentDetectorMode;
}

export interface Admitted {
  ok: true;
  message: ClientMessage;
  trace: TraceContext;
  modern: boolean;
  client?: string;
  rate?: RateDecision;
  /** The id of a `tools/list` request whose answer must be filtered for this caller. */
  filterToolsOf?: string | number;
  /** A session's `tools/list`: observe its answer for drift (and withhold drifted tools); the answer to send. */
  observeTools?: (message: unknown) => unknown;
  /** The call's audit record, settled once with the outcome when the upstream answered or failed. */
  call?: CallRecord;
}

export interface Refused {
  ok: false;
  status: number;
  body: JsonRpcResponse;
  trace: TraceContext;
  rate?: RateDecision;
  /** HTTP headers the refusal needs (Retry-After). */
  headers?: Record<string, string>;
  /** Policy denials are JSON-RPC answers: over legacy SSE they travel on the stream, not as the POST's status. */
  policyDenial?: boolean;
}

/** The audit fields of one client message: who sent it, where, what, under which trace. */
export type MessageAuditFields = Pick<
  GatewayAuditEvent,
  'server' | 'agent' | 'trace_id' | 'span_id' | 'method' | 'client' | 'tool' | 'request_id'
>;

/** What every step of one client message's admission knows: who asked, for what, and how to record it. */
export interface AdmissionContext {
  deps: AdmissionDeps;
  tenant: string;
  upstream: Upstream;
  trace: TraceContext;
  message: JsonRpcRequest | JsonRpcNotification;
  isRequest: boolean;
  /** The request's id (null for a notification). */
  id: JsonRpcId | null;
  client?: string;
  tool?: string;
  /** The audit fields every event about this message carries (exactly these: the held event copies them one by one). */
  event: MessageAuditFields;
  /** An allowed or warned call's event, recorded once its outcome is known (not at admission). */
  held?: GatewayAuditEvent;
  /** Counts the message's outcome in the relay metric; a method (`this` is the context), called as `ctx.count`. */
  count(this: AdmissionContext, outcome: string): void;
}

/** Audited and counted as refused, answered with `status` and a JSON-RPC error. */
function refuse(
  ctx: AdmissionContext,
  status: number,
  code: number,
  reason: string,
  audited = ctx.event,
): Refused {
  ctx.deps.audit(ctx.tenant, { ...audited, type: 'request.refused', reason });
  ctx.count('refused');
  return { ok: false, status, body: errorResponse(ctx.id, code, reason), trace: ctx.trace };
}

/**
 * A request method sent without an id would be forwarded unchecked (policy, rate limits and audit key on
 * requests): every message that names a request method must be a request.
 */
export function requestMethodAsNotification(ctx: AdmissionContext): Refused | undefined {
  if (ctx.isRequest || !namesRequestMethod(ctx.message.method)) return undefined;
  const reason = `${ctx.message.method} is a request method and needs an id; it was sent as a notification`;
  return refuse(ctx, 400, ERROR_CODES.invalid_request, reason);
}

/** The same shape step as the proxy: a malformed tools/call never reaches the upstream. */
export function toolCallShape(ctx: AdmissionContext): Refused | undefined {
  if (!ctx.isRequest || ctx.message.method !== 'tools/call') return undefined;
  const shapeError = toolCallShapeError(ctx.message.params);
  if (shapeError === undefined) return undefined;
  ctx.deps.audit(ctx.tenant, { ...ctx.event, type: 'request.refused', reason: shapeError });
  ctx.count('refused');
  return {
    ok: false,
    status: 200,
    policyDenial: true,
    trace: ctx.trace,
    body: errorResponse(ctx.id, ERROR_CODES.invalid_params, shapeError, { reason_code: 'invalid_params' }),
  };
}

/** The 2026-07-28 standard headers (`Mcp-Method`, `Mcp-Name`, the revision) agree with the body. */
export function standardHeaders(
  ctx: AdmissionContext,
  headers: IncomingHttpHeaders,
): { check: HeaderCheck; refused?: Refused } {
  const check = checkStandardHeaders(headers, ctx.message, ctx.isRequest);
  if (!check.refusal) return { check };
  const { status, code, reason } = check.refusal;
  return { check, refused: refuse(ctx, status, code, reason, { ...ctx.event, tool: undefined }) };
}

/** Whether `rateLimits` has anything to check: a request, a limiter, and a limit that applies to it. */
export function limits(ctx: AdmissionContext): boolean {
  const { deps } = ctx;
  return (
    ctx.isRequest &&
    deps.limiter !== undefined &&
    (deps.perTenant !== undefined || (deps.perTool !== undefined && ctx.tool !== undefined))
  );
}

/**
 * The per-tenant and per-tool limits of a request. The decision reported in the rate headers is the tenant's
 * when there is one. A shared limiter that is down fails closed.
 */
export async function rateLimits(ctx: AdmissionContext): Promise<{ rate?: RateDecision; refused?: Refused }> {
  const { deps, tenant, upstream, tool, id, trace } = ctx;
  if (!limits(ctx) || !deps.limiter) return {};
  const checks: Array<[string, Rate]> = [];
  if (deps.perTenant) checks.push([`tenant:${tenant}`, deps.perTenant]);
  if (deps.perTool && tool) checks.push([`tool:${tenant}:${upstream.name}:${tool}`, deps.perTool]);
  let rate: RateDecision | undefined;
  for (const [bucket, limit] of checks) {
    let decision: RateDecision;
    try {
      decision = await deps.limiter.consume(bucket, limit);
    } catch {
      // The shared limiter is down: fail closed rather than let one replica run unlimited.
      ctx.count('refused');
      const body = errorResponse(id, ERROR_CODES.rate_limited, 'the rate limiter is unavailable');
      return { rate, refused: { ok: false, status: 503, body, trace, headers: { 'retry-after': '1' } } };
    }
    if (!rate || bucket.startsWith('tenant:')) rate = decision;
    if (!decision.allowed) {
      const scope = bucket.startsWith('tool:') ? `tool ${tool} on ${upstream.name}` : `tenant ${tenant}`;
      deps.audit(tenant, {
        ...ctx.event,
        type: 'rate_limit.exceeded',
        reason: `rate limit ${limit.text} for ${scope}`,
      });
      ctx.count('rate_limited');
      const retry = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
      const message = `rate limit exceeded (${limit.text} for ${scope}); retry in ${retry}s`;
      return {
        rate,
        refused: {
          ok: false,
          status: 429,
          rate: decision,
          trace,
          headers: { 'retry-after': retry },
          body: errorResponse(id, ERROR_CODES.rate_limited, message, {
            retry_after_seconds: Number(retry),
          }),
        },
      };
    }
  }
  return { rate };
}

/**
 * An allowed request carries the gateway's trace context in `params._meta.traceparent` (and `tracestate`): set on
 * the parsed message (the legacy SSE bridge sends objects) and spliced into its text, which is what streamable HTTP
 * forwards, so the body is not re-serialised (big integers, key order and spacing stay the client's).
 */
export function withTraceContext(
  request: Extract<ClientMessage, { kind: 'request' }>,
  trace: TraceContext,
): void {
  const members: Record<string, string> = { traceparent: traceparentOf(trace) };
  if (trace.tracestate) members.tracestate = trace.tracestate;
  const params = (request.message.params ?? {}) as Record<string, unknown>;
  const metaIn =
    params._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>) : {};
  request.message.params = { ...params, _meta: { ...metaIn, ...members } };
  request.text = withMetaMembers(request.text, request.shape, members) ?? JSON.stringify(request.message);
}
