import type { RuntimeAuditEvent, RuntimeEventType } from '../../../../libs/contracts/src/index.js';
import {
  buildEvent as build,
  type AuditFields,
  type TraceContext,
} from '../../../../libs/runtime/src/index.js';

export { auditText } from '../../../../libs/runtime/src/index.js';

/** What a pipeline step knows when it emits an event; everything is optional but the type. */
export interface EventFacts {
  type: RuntimeEventType;
  tool?: string;
  method?: string;
  ruleId?: string | null;
  reason?: string;
  trace?: TraceContext;
  requestId?: string | number;
  argumentFingerprint?: string;
  toolFingerprint?: string;
  previousToolFingerprint?: string;
  detectors?: readonly string[];
  policyVersion?: string;
  count?: number;
  decision?: RuntimeAuditEvent['decision'];
  outcome?: RuntimeAuditEvent['outcome'];
  errorClass?: string;
}

/** Who the proxy is speaking for: fixed for a session (client once `initialize` names it). */
export interface EventContext {
  server: string;
  agent?: string;
  client?: string;
}

/** The proxy's facts as the contract's fields (the runtime's audit module cleans and bounds them). */
export function eventFields(facts: EventFacts, context: EventContext): AuditFields {
  return {
    type: facts.type,
    agent: context.agent,
    client: context.client,
    server: context.server,
    tool: facts.tool,
    method: facts.method,
    rule_id: facts.ruleId ?? undefined,
    reason: facts.reason,
    trace_id: facts.trace?.traceId,
    span_id: facts.trace?.spanId,
    request_id: facts.requestId === undefined ? undefined : String(facts.requestId),
    argument_fingerprint: facts.argumentFingerprint,
    tool_fingerprint: facts.toolFingerprint,
    previous_tool_fingerprint: facts.previousToolFingerprint,
    detectors: facts.detectors ? [...facts.detectors] : undefined,
    policy_version: facts.policyVersion,
    count: facts.count,
    decision: facts.decision,
    outcome: facts.outcome,
    error_class: facts.errorClass,
  };
}

/** A contract-valid runtime event with a fresh `event_id` (re-sending it later is harmless). */
export function buildEvent(facts: EventFacts, context: EventContext, now = new Date()): RuntimeAuditEvent {
  return build(eventFields(facts, context), now);
}
