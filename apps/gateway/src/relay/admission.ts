import type { IncomingHttpHeaders } from 'node:http';
import { CallRecord } from '../../../../libs/runtime/src/index.js';
import type { Principal } from '../auth/principal.js';
import type { Upstream } from '../upstreams/upstream.js';
import { policyAndDetectors } from './admission-policy.js';
import {
  gatesTools,
  rememberForReplay,
  replayCheck,
  toolGate,
  toolsAnswerObserver,
  type SessionHooks,
} from './admission-session.js';
import {
  limits,
  rateLimits,
  requestMethodAsNotification,
  standardHeaders,
  toolCallShape,
  withTraceContext,
  type AdmissionContext,
  type AdmissionDeps,
  type Admitted,
  type Refused,
} from './admission-steps.js';
import { clientNameOf, errorResponse, toolOf } from '../../../../libs/runtime/src/index.js';
import type { ClientMessage, ParseOutcome } from './jsonrpc.js';
import type { HeaderCheck } from './standard-headers.js';
import type { RateDecision } from '../rate-limit/rate-limiter.js';
import { traceOf } from './relay-context.js';

export { isPlumbing } from './admission-policy.js';

/** A request or notification that passed the synchronous steps. */
type Checked = Extract<ClientMessage, { kind: 'request' | 'notification' }>;

const NO_LIMITS: { rate?: undefined; refused?: undefined } = Object.freeze({});
export type { AdmissionDeps, Admitted, Refused } from './admission-steps.js';
export type { SessionHooks } from './admission-session.js';

/**
 * Every check a client message passes before it reaches an upstream, in order: well-formed JSON-RPC, a request
 * method only as a request, replay (in a client session), `tools/call` shape, standard headers agree with the
 * body, undeclared tools and drift (`--block-undeclared`, `--block-drift`), rate limits, policy, then argument
 * detectors (the steps are in `admission-steps.ts`, `admission-session.ts` and `admission-policy.ts`; replay,
 * undeclared and drift are libs/runtime's, as in the proxy). Each refusal is audited to the caller's tenant with
 * the reason; allowed, warned and denied tool calls are audited too. Allowed requests get the gateway's trace
 * context in `params._meta.traceparent`, and a session's `tools/list` answers are observed for drift.
 */
export function admit(
  deps: AdmissionDeps,
  principal: Principal,
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  parsed: ParseOutcome,
  knownClient?: string,
  session?: SessionHooks,
): Admitted | Refused | Promise<Admitted | Refused> {
  const tenant = principal.tenant;
  const meta =
    parsed.kind === 'request' || parsed.kind === 'notification' ? parsed.message.params?._meta : undefined;
  const trace = traceOf(headers, meta);

  if (parsed.kind === 'invalid') {
    deps.audit(tenant, {
      server: upstream.name,
      agent: principal.subject,
      trace_id: trace.traceId,
      span_id: trace.spanId,
      type: 'request.refused',
      reason: `malformed JSON-RPC: ${parsed.reason}`,
    });
    deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'refused' });
    return { ok: false, status: 400, body: errorResponse(parsed.id, parsed.code, parsed.reason), trace };
  }
  if (parsed.kind === 'response') {
    deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'forwarded' });
    return { ok: true, message: parsed, trace, modern: false, client: knownClient };
  }
  const message = parsed.message;
  const id = parsed.kind === 'request' ? parsed.message.id : null;
  const client = clientNameOf(message) ?? knownClient;
  const tool = toolOf(message);
  const ctx: AdmissionContext = {
    deps,
    tenant,
    upstream,
    trace,
    message,
    isRequest: parsed.kind === 'request',
    id,
    client,
    tool,
    // One literal (the spread of a shared part grew a property store per request), in the same key order.
    event: {
      server: upstream.name,
      agent: principal.subject,
      trace_id: trace.traceId,
      span_id: trace.spanId,
      method: message.method,
      client,
      tool,
      request_id: id === null ? undefined : String(id),
    },
    count: countOutcome,
  };

  const notification = requestMethodAsNotification(ctx);
  if (notification) return notification;
  const { payload, refused: replayed } = replayCheck(ctx, session);
  if (replayed) return replayed;
  const shape = toolCallShape(ctx);
  if (shape) return shape;
  const { check, refused: headerRefusal } = standardHeaders(ctx, headers);
  if (headerRefusal) return headerRefusal;
  // The two steps that may wait (the tool gate, the rate limits) are awaited only when they have something to
  // do, and a request that needs neither is admitted synchronously: an async `admit` cost its own promise, and
  // the caller's await a second one and a microtask turn, per request; most requests need neither step.
  if (gatesTools(ctx, session) || limits(ctx)) return admitAfterWaits(ctx, parsed, session, payload, check);
  return admitted(ctx, parsed, session, payload, check, undefined);
}

/** `AdmissionContext.count`, called as the context's method: one function for every request, not a closure each. */
function countOutcome(this: AdmissionContext, outcome: string): void {
  this.deps.metrics.relays.inc({ upstream: this.upstream.name, outcome });
}

/** The rest of {@link admit} for a request that waits for the tool gate or the rate limits. */
async function admitAfterWaits(
  ctx: AdmissionContext,
  parsed: Checked,
  session: SessionHooks | undefined,
  payload: string,
  check: HeaderCheck,
): Promise<Admitted | Refused> {
  const gated = gatesTools(ctx, session) ? await toolGate(ctx, session) : undefined;
  if (gated) return gated;
  const { rate, refused: rateRefusal } = limits(ctx) ? await rateLimits(ctx) : NO_LIMITS;
  if (rateRefusal) return rateRefusal;
  return admitted(ctx, parsed, session, payload, check, rate);
}

/** Policy and detectors, then the admitted request (or the policy's or a detector's refusal). */
function admitted(
  ctx: AdmissionContext,
  parsed: Checked,
  session: SessionHooks | undefined,
  payload: string,
  check: HeaderCheck,
  rate: RateDecision | undefined,
): Admitted | Refused {
  const { deps, tenant, message, id, trace, client } = ctx;
  const denied = policyAndDetectors(ctx, rate);
  if (denied) return denied;

  rememberForReplay(ctx, session, payload);
  if (parsed.kind === 'request') withTraceContext(parsed, trace);
  ctx.count('forwarded');
  return {
    ok: true,
    message: parsed,
    trace,
    modern: check.modern,
    client,
    rate,
    call: ctx.held && new CallRecord((fields) => deps.audit(tenant, fields), ctx.held),
    filterToolsOf:
      parsed.kind === 'request' && message.method === 'tools/list' && deps.policies(tenant).length
        ? (id as string | number)
        : undefined,
    observeTools: toolsAnswerObserver(ctx, session),
  };
}
