import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalJson } from '../../../../libs/policy/src/index.js';
import {
  argumentDetectorStep,
  toolCallShapeError,
  type ArgumentDetectorMode,
} from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import type { Principal } from '../auth/principal.js';
import type { Rate } from '../config/rate.js';
import type { GatewayMetrics } from '../http/metrics.js';
import { decide, type LoadedPolicy } from '../policy/loaded-policy.js';
import type { RateDecision, RateLimiter } from '../rate-limit/rate-limiter.js';
import type { Upstream } from '../upstreams/upstream.js';
import {
  clientNameOf,
  errorResponse,
  GATEWAY_ERRORS,
  toolOf,
  type ClientMessage,
  type JsonRpcResponse,
  type ParseOutcome,
} from './jsonrpc.js';
import { checkStandardHeaders } from './standard-headers.js';
import { traceOf, traceparentOf, type TraceContext } from './trace.js';

/** Methods that carry no action of their own: never policy-checked (tools/list is filtered instead). */
export function isPlumbing(method: string): boolean {
  return (
    method === 'initialize' ||
    method === 'ping' ||
    method === 'server/discover' ||
    method === 'subscriptions/listen' ||
    method === 'logging/setLevel' ||
    method.endsWith('/list') ||
    method.startsWith('notifications/')
  );
}

export interface AdmissionDeps {
  limiter?: RateLimiter;
  perTenant?: Rate;
  perTool?: Rate;
  policies(tenant: string): LoadedPolicy[];
  audit(tenant: string, event: GatewayAuditEvent): void;
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

/**
 * Every check a client message passes before it reaches an upstream, in order: well-formed JSON-RPC, standard
 * headers agree with the body, rate limits, policy. Each refusal is audited to the caller's tenant with the
 * reason; allowed, warned and denied tool calls are audited too. Allowed requests get the gateway's trace
 * context in `params._meta.traceparent`.
 */
export async function admit(
  deps: AdmissionDeps,
  principal: Principal,
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  parsed: ParseOutcome,
  knownClient?: string,
): Promise<Admitted | Refused> {
  const tenant = principal.tenant;
  const meta =
    parsed.kind === 'request' || parsed.kind === 'notification' ? parsed.message.params?._meta : undefined;
  const trace = traceOf(headers, meta);
  const base = {
    server: upstream.name,
    agent: principal.subject,
    trace_id: trace.traceId,
    span_id: trace.spanId,
  };
  const count = (outcome: string) => deps.metrics.relays.inc({ upstream: upstream.name, outcome });

  if (parsed.kind === 'invalid') {
    deps.audit(tenant, { ...base, type: 'request.refused', reason: `malformed JSON-RPC: ${parsed.reason}` });
    count('refused');
    return { ok: false, status: 400, body: errorResponse(parsed.id, parsed.code, parsed.reason), trace };
  }
  if (parsed.kind === 'response') {
    count('forwarded');
    return { ok: true, message: parsed, trace, modern: false, client: knownClient };
  }
  const message = parsed.message;
  const id = parsed.kind === 'request' ? parsed.message.id : null;
  const client = clientNameOf(message) ?? knownClient;
  const tool = toolOf(message);
  const event = {
    ...base,
    method: message.method,
    client,
    tool,
    request_id: id === null ? undefined : String(id),
  };

  if (parsed.kind === 'notification' && !message.method.startsWith('notifications/')) {
    // A request method without an id would be forwarded unchecked (policy, rate limits and audit key on
    // requests): every message that names a request method must be a request.
    const reason = `${message.method} is a request method and needs an id; it was sent as a notification`;
    deps.audit(tenant, { ...event, type: 'request.refused', reason });
    count('refused');
    return {
      ok: false,
      status: 400,
      body: errorResponse(null, GATEWAY_ERRORS.INVALID_REQUEST, reason),
      trace,
    };
  }

  const shapeError =
    parsed.kind === 'request' && message.method === 'tools/call'
      ? toolCallShapeError(message.params)
      : undefined;
  if (shapeError !== undefined) {
    // The same shape step as the proxy: a malformed tools/call never reaches the upstream.
    deps.audit(tenant, { ...event, type: 'request.refused', reason: shapeError });
    count('refused');
    return {
      ok: false,
      status: 200,
      policyDenial: true,
      trace,
      body: errorResponse(id, GATEWAY_ERRORS.INVALID_PARAMS, shapeError, { reason_code: 'invalid_params' }),
    };
  }

  const check = checkStandardHeaders(headers, message, parsed.kind === 'request');
  if (check.refusal) {
    deps.audit(tenant, { ...event, tool: undefined, type: 'request.refused', reason: check.refusal.reason });
    count('refused');
    return {
      ok: false,
      status: check.refusal.status,
      body: errorResponse(id, check.refusal.code, check.refusal.reason),
      trace,
    };
  }

  let rate: RateDecision | undefined;
  if (parsed.kind === 'request' && deps.limiter) {
    const checks: Array<[string, Rate]> = [];
    if (deps.perTenant) checks.push([`tenant:${tenant}`, deps.perTenant]);
    if (deps.perTool && tool) checks.push([`tool:${tenant}:${upstream.name}:${tool}`, deps.perTool]);
    for (const [bucket, limit] of checks) {
      let decision: RateDecision;
      try {
        decision = await deps.limiter.consume(bucket, limit);
      } catch {
        // The shared limiter is down: fail closed rather than let one replica run unlimited.
        count('refused');
        return {
          ok: false,
          status: 503,
          body: errorResponse(id, GATEWAY_ERRORS.RATE_LIMITED, 'the rate limiter is unavailable'),
          trace,
          headers: { 'retry-after': '1' },
        };
      }
      if (!rate || bucket.startsWith('tenant:')) rate = decision;
      if (!decision.allowed) {
        const scope = bucket.startsWith('tool:') ? `tool ${tool} on ${upstream.name}` : `tenant ${tenant}`;
        deps.audit(tenant, {
          ...event,
          type: 'rate_limit.exceeded',
          reason: `rate limit ${limit.text} for ${scope}`,
        });
        count('rate_limited');
        const retry = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
        return {
          ok: false,
          status: 429,
          rate: decision,
          trace,
          headers: { 'retry-after': retry },
          body: errorResponse(
            id,
            GATEWAY_ERRORS.RATE_LIMITED,
            `rate limit exceeded (${limit.text} for ${scope}); retry in ${retry}s`,
            { retry_after_seconds: Number(retry) },
          ),
        };
      }
    }
  }

  if (parsed.kind === 'request' && !isPlumbing(message.method)) {
    const params = message.params ?? {};
    const call =
      tool !== undefined
        ? { method: message.method, tool, arguments: params.arguments }
        : { method: message.method, arguments: withoutMeta(params) };
    const verdict = decide(deps.policies(tenant), call, { upstream: upstream.name, client });
    const effect = verdict?.decision.effect ?? 'allow';
    const policyFields = verdict
      ? {
          rule_id: verdict.decision.rule_id ?? undefined,
          policy_version: `${verdict.policy.source}@${verdict.policy.version}`,
        }
      : {};
    const fingerprint = tool !== undefined ? argumentFingerprint(params.arguments) : undefined;
    if (tool !== undefined) deps.metrics.toolCalls.inc({ upstream: upstream.name, decision: effect });
    if (effect === 'deny' && verdict) {
      const rule = verdict.decision.rule_id ?? 'default_effect';
      const what = tool !== undefined ? `tool "${tool}"` : `method ${message.method}`;
      const denied = {
        ...event,
        ...policyFields,
        type: tool !== undefined ? 'tool_call.denied' : 'request.refused',
        reason: verdict.decision.reason,
        argument_fingerprint: fingerprint,
      } as const;
      return refuseInBand(
        deps,
        tenant,
        denied,
        count,
        trace,
        rate,
        errorResponse(
          id,
          GATEWAY_ERRORS.POLICY_DENIED,
          `Blocked by agent-bom gateway policy (${verdict.policy.source}): ${denialOf(what, verdict.decision.reason)}`,
          {
            policy: 'agent-bom gateway',
            policy_source: verdict.policy.source,
            policy_version: verdict.policy.version,
            rule_id: rule,
          },
        ),
      );
    }
    // Argument detectors, after policy (as in the proxy): a high/critical finding refuses the call.
    const detected =
      tool !== undefined ? argumentDetectorStep(deps.argumentDetectors, params.arguments ?? {}) : undefined;
    if (detected?.blocked) {
      const denied = {
        ...event,
        ...policyFields,
        type: 'tool_call.denied',
        reason: detected.blocked.message,
        detectors: detected.detectors,
        argument_fingerprint: fingerprint,
      } as const;
      return refuseInBand(
        deps,
        tenant,
        denied,
        count,
        trace,
        rate,
        errorResponse(id, GATEWAY_ERRORS.ARGUMENTS_BLOCKED, detected.blocked.message, {
          reason_code: 'arguments_blocked',
          detectors: detected.blocked.detectors,
        }),
      );
    }
    if (tool !== undefined) {
      const warnings = [
        ...(effect === 'warn' && verdict ? [verdict.decision.reason] : []),
        ...(detected?.warnings ?? []),
      ];
      deps.audit(tenant, {
        ...event,
        ...policyFields,
        type: warnings.length > 0 ? 'tool_call.warned' : 'tool_call.allowed',
        reason: warnings.length > 0 ? warnings.join('; ') : undefined,
        detectors: detected?.detectors.length ? detected.detectors : undefined,
        argument_fingerprint: fingerprint,
      });
    }
  }

  if (parsed.kind === 'request') {
    const params = (message.params ?? {}) as Record<string, unknown>;
    const metaIn =
      params._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>) : {};
    message.params = {
      ...params,
      _meta: {
        ...metaIn,
        traceparent: traceparentOf(trace),
        ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
      },
    };
  }
  count('forwarded');
  return {
    ok: true,
    message: parsed,
    trace,
    modern: check.modern,
    client,
    rate,
    filterToolsOf:
      parsed.kind === 'request' && message.method === 'tools/list' && deps.policies(tenant).length
        ? (id as string | number)
        : undefined,
  };
}

/**
 * A denial answered in the JSON-RPC channel (HTTP 200; over legacy SSE it travels on the stream): audited as
 * denied, counted, then the error answer.
 */
function refuseInBand(
  deps: AdmissionDeps,
  tenant: string,
  event: GatewayAuditEvent,
  count: (outcome: string) => void,
  trace: TraceContext,
  rate: RateDecision | undefined,
  body: JsonRpcResponse,
): Refused {
  deps.audit(tenant, event);
  count('denied');
  return { ok: false, status: 200, policyDenial: true, trace, rate, body };
}

/** `tool "x" denied by rule "r": <the condition that matched>` — the rule's own reason names the condition. */
function denialOf(what: string, reason: string): string {
  return /^denied by /.test(reason) ? `${what} ${reason}` : `${what} is denied: ${reason}`;
}

function withoutMeta(params: Record<string, unknown>): Record<string, unknown> {
  if (!('_meta' in params)) return params;
  const { _meta: _ignored, ...rest } = params;
  return rest;
}

/** `sha256:` of the canonical JSON of the arguments: calls can be matched without the ledger holding values. */
export function argumentFingerprint(args: unknown): string | undefined {
  try {
    return `sha256:${createHash('sha256')
      .update(canonicalJson(args ?? {}))
      .digest('hex')}`;
  } catch {
    return undefined;
  }
}
