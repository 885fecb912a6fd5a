import { randomUUID } from 'node:crypto';
import {
  AUDIT_LIMITS,
  DETECTOR_PATTERN,
  type RuntimeAuditEvent,
  type RuntimeEventType,
} from '../../../../libs/contracts/src/index.js';
import { redactText } from '../../../../libs/detectors/src/index.js';
import type { TraceContext } from '../../../../libs/runtime/src/index.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const ALL_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * Text fit for the audit ledger (docs/audit.md "Text"): credentials redacted, control characters (tab and newline
 * only in `reason`), lone surrogates and bidi overrides removed, bounded without splitting a surrogate pair.
 */
export function auditText(value: string, max: number, multiline = false): string | undefined {
  let text = redactText(value.length > max * 4 ? value.slice(0, max * 4) : value).text;
  text = text
    .replace(multiline ? CONTROL : ALL_CONTROL, ' ')
    .replace(BIDI, '')
    .replace(LONE_SURROGATE, '');
  if (text.length > max) {
    const points = Array.from(text);
    text = points.length > max ? points.slice(0, max - 1).join('') + '…' : text;
    while (text.length > max) text = Array.from(text).slice(0, -2).join('') + '…';
  }
  text = text.trim();
  return text === '' ? undefined : text;
}

/** Session-constant names (server, agent, client) and tool names repeat on every event: sanitise each once. */
const nameCache = new Map<string, string | undefined>();
function auditName(value: string): string | undefined {
  if (value.length > AUDIT_LIMITS.nameLength) return auditText(value, AUDIT_LIMITS.nameLength);
  if (nameCache.has(value)) return nameCache.get(value);
  const clean = auditText(value, AUDIT_LIMITS.nameLength);
  if (nameCache.size >= 1000) nameCache.clear();
  nameCache.set(value, clean);
  return clean;
}

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
}

/** Who the proxy is speaking for: fixed for a session (client once `initialize` names it). */
export interface EventContext {
  server: string;
  agent?: string;
  client?: string;
}

/** Builds a contract-valid runtime event with a fresh `event_id` (re-sending it later is harmless). */
export function buildEvent(facts: EventFacts, context: EventContext, now = new Date()): RuntimeAuditEvent {
  const name = AUDIT_LIMITS.nameLength;
  const event: RuntimeAuditEvent = { event_id: randomUUID(), type: facts.type, timestamp: now.toISOString() };
  const set = <K extends keyof RuntimeAuditEvent>(key: K, value: RuntimeAuditEvent[K] | undefined) => {
    if (value !== undefined) event[key] = value;
  };
  set('agent', context.agent && auditName(context.agent));
  set('client', context.client && auditName(context.client));
  set('server', auditName(context.server));
  const needsTool = facts.type.startsWith('tool_call.') || facts.type === 'tool.drift';
  set(
    'tool',
    facts.tool !== undefined ? (auditName(facts.tool) ?? '(unnamed)') : needsTool ? '(none)' : undefined,
  );
  set('method', facts.method && auditName(facts.method));
  set('rule_id', facts.ruleId ? auditText(facts.ruleId, name) : undefined);
  set('reason', facts.reason && auditText(facts.reason, AUDIT_LIMITS.reasonLength, true));
  set('trace_id', facts.trace?.traceId);
  set('span_id', facts.trace?.spanId);
  set(
    'request_id',
    facts.requestId !== undefined ? auditText(String(facts.requestId), AUDIT_LIMITS.idLength) : undefined,
  );
  set('argument_fingerprint', facts.argumentFingerprint);
  set('tool_fingerprint', facts.toolFingerprint);
  set('previous_tool_fingerprint', facts.previousToolFingerprint);
  const detectors = facts.detectors
    ?.filter((d) => DETECTOR_PATTERN.test(d))
    .slice(0, AUDIT_LIMITS.detectorsPerEvent);
  set('detectors', detectors?.length ? [...new Set(detectors)] : undefined);
  set('policy_version', facts.policyVersion && auditText(facts.policyVersion, name));
  set(
    'count',
    facts.count !== undefined ? Math.max(0, Math.min(1_000_000_000, Math.floor(facts.count))) : undefined,
  );
  set('decision', facts.decision);
  return event;
}
