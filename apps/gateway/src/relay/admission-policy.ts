import {
  argumentDetectorStep,
  errorResponse,
  ERROR_CODES,
  fingerprint,
  withoutMeta,
  type JsonRpcResponse,
} from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import { decide, type GatewayDecision } from '../policy/loaded-policy.js';
import type { RateDecision } from '../rate-limit/rate-limiter.js';
import type { AdmissionContext, Refused } from './admission-steps.js';

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

/**
 * Policy, then the argument detectors (as in the proxy: a high/critical finding refuses the call), for a
 * request that carries an action. Denials are answered in band and audited; an allowed or warned tool call's
 * event is held (`ctx.held`) and recorded by the relay once the upstream answered, with the outcome.
 */
export function policyAndDetectors(
  ctx: AdmissionContext,
  rate: RateDecision | undefined,
): Refused | undefined {
  const { deps, tenant, upstream, tool, client, message, id } = ctx;
  if (!ctx.isRequest || isPlumbing(message.method)) return undefined;
  const params = message.params ?? {};
  const call =
    tool !== undefined
      ? { method: message.method, tool, arguments: params.arguments }
      : { method: message.method, arguments: withoutMeta(params) };
  const verdict = decide(deps.policies(tenant), call, { upstream: upstream.name, client });
  const effect = verdict?.decision.effect ?? 'allow';
  if (tool !== undefined) deps.metrics.toolCalls.inc({ upstream: upstream.name, decision: effect });
  if (effect === 'deny' && verdict) {
    const rule = verdict.decision.rule_id ?? 'default_effect';
    const what = tool !== undefined ? `tool "${tool}"` : `method ${message.method}`;
    const denied = {
      ...ctx.event,
      ...policyFieldsOf(verdict),
      type: tool !== undefined ? 'tool_call.denied' : 'request.refused',
      reason: verdict.decision.reason,
      argument_fingerprint: argumentFingerprint(tool, params),
    } as const;
    return refuseInBand(
      ctx,
      denied,
      rate,
      errorResponse(
        id,
        ERROR_CODES.policy_denied,
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
  const detected =
    tool !== undefined ? argumentDetectorStep(deps.argumentDetectors, params.arguments ?? {}) : undefined;
  if (detected?.blocked) {
    const denied = {
      ...ctx.event,
      ...policyFieldsOf(verdict),
      type: 'tool_call.denied',
      reason: detected.blocked.message,
      detectors: detected.detectors.slice(),
      argument_fingerprint: argumentFingerprint(tool, params),
    } as const;
    return refuseInBand(
      ctx,
      denied,
      rate,
      errorResponse(id, ERROR_CODES.arguments_blocked, detected.blocked.message, {
        reason_code: 'arguments_blocked',
        detectors: detected.blocked.detectors,
      }),
    );
  }
  if (tool !== undefined) {
    // The warnings joined without an array when there are none (most calls).
    const policyWarning = effect === 'warn' && verdict ? verdict.decision.reason : undefined;
    const detectorWarnings = detected?.warnings.length ? detected.warnings : undefined;
    const reason =
      policyWarning === undefined && detectorWarnings === undefined
        ? undefined
        : [...(policyWarning === undefined ? [] : [policyWarning]), ...(detectorWarnings ?? [])].join('; ');
    const type = reason === undefined ? 'tool_call.allowed' : 'tool_call.warned';
    // Only on a streamable HTTP upstream is an allowed call's record sure to stay a plain allowed call (a legacy
    // bridge may turn it into a refusal, which is logged); `keepsAllowedCalls` is true when the response scan may
    // turn it into a redaction or a block.
    const kept =
      type !== 'tool_call.allowed' ||
      upstream.transport !== 'streamable-http' ||
      deps.keepsAllowedCalls?.(tenant) !== false;
    // One literal in the order the spreads gave (`ctx.event`'s fields, the policy's, then the call's): spreading
    // grew a property store per request. Without a policy, rule and version are undefined rather than absent;
    // the audit treats both alike.
    const e = ctx.event;
    const event: GatewayAuditEvent = {
      server: e.server,
      agent: e.agent,
      trace_id: e.trace_id,
      span_id: e.span_id,
      method: e.method,
      client: e.client,
      tool: e.tool,
      request_id: e.request_id,
      rule_id: verdict ? (verdict.decision.rule_id ?? undefined) : undefined,
      policy_version: verdict?.policy.auditVersion,
      type,
      reason,
      detectors: detected?.detectors.length ? detected.detectors.slice() : undefined,
      argument_fingerprint: kept ? argumentFingerprint(tool, params) : undefined,
    };
    // A plain allowed call nobody takes (no audit file, no control plane) is counted now, as admitted: no record
    // held for its answer, so no argument fingerprint, no parse of the answer for an outcome nothing reads, and
    // no listener for the client going away.
    if (kept) ctx.held = event;
    else deps.audit(tenant, event);
  }
  return undefined;
}

/** The deciding policy's fields of a denial's audit event (none without a policy). */
function policyFieldsOf(verdict: GatewayDecision | undefined): { rule_id?: string; policy_version?: string } {
  return verdict
    ? { rule_id: verdict.decision.rule_id ?? undefined, policy_version: verdict.policy.auditVersion }
    : {};
}

/**
 * The call's argument fingerprint for its audit event: worked out only where an event takes it (not for a plain
 * allowed call nobody takes, which is counted only).
 */
function argumentFingerprint(tool: string | undefined, params: { arguments?: unknown }): string | undefined {
  return tool !== undefined ? fingerprint(params.arguments ?? {}) : undefined;
}

/**
 * A denial answered in the JSON-RPC channel (HTTP 200; over legacy SSE it travels on the stream): audited as
 * denied, counted, then the error answer.
 */
function refuseInBand(
  ctx: AdmissionContext,
  event: GatewayAuditEvent,
  rate: RateDecision | undefined,
  body: JsonRpcResponse,
): Refused {
  ctx.deps.audit(ctx.tenant, event);
  ctx.count('denied');
  return { ok: false, status: 200, policyDenial: true, trace: ctx.trace, rate, body };
}

/** `tool "x" denied by rule "r": <the condition that matched>` — the rule's own reason names the condition. */
function denialOf(what: string, reason: string): string {
  return /^denied by /.test(reason) ? `${what} ${reason}` : `${what} is denied: ${reason}`;
}
