import { randomUUID } from 'node:crypto';
import {
  ACTION_PATTERN,
  AUDIT_LIMITS,
  DECISION_OF_TYPE,
  RUNTIME_EVENT_TYPES,
  TYPES_REQUIRING_TOOL,
  type AuditActor,
  type AuditDetailValue,
  type RuntimeAuditEvent,
  type StoredAuditEvent,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { scrubSecrets } from '../../../libs/redaction/src/index.js';

/**
 * Turns what a caller supplied into the event that is hashed and stored. Pure: no I/O, so the same input
 * always gives the same event (a re-sent batch is recognised as a duplicate).
 */

/** A control-plane action to record; see {@link AuditService.record}. */
export interface AuditAction {
  /** Lower-case dotted name, `<noun>.<past-tense verb>`: `policy.created`, `fleet.synced`. */
  type: string;
  /** What was acted on, e.g. `api_key` / its id. Never a secret. */
  resource_type?: string;
  resource_id?: string;
  /** Small, flat facts for an investigator (≤ 32 keys). Never credentials: keys named like one are refused. */
  details?: Record<string, AuditDetailValue>;
}

const FREE_TEXT_FIELDS = [
  'agent',
  'client',
  'server',
  'tool',
  'method',
  'rule_id',
  'reason',
  'request_id',
  'policy_version',
] as const satisfies ReadonlyArray<keyof RuntimeAuditEvent>;

const PASSED_THROUGH = [
  'trace_id',
  'span_id',
  'argument_fingerprint',
  'previous_tool_fingerprint',
  'tool_fingerprint',
  'detectors',
  'count',
  'outcome',
  'error_class',
] as const satisfies ReadonlyArray<keyof RuntimeAuditEvent>;

/** Detail keys that smell of a credential: a bug in the caller, refused loudly rather than stored. */
const CREDENTIAL_KEY = /(secret|password|passwd|token|raw_?key|private_?key|credential|api_?key$)/i;
const DETAIL_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_DETAILS = 32;
const MAX_DETAIL_TEXT = 1000;

export function actorOf(principal: Principal): AuditActor {
  return {
    subject: principal.subject,
    role: principal.role,
    method: principal.authMethod,
    ...(principal.keyId ? { key_id: principal.keyId } : {}),
    tenant_id: principal.tenantId,
  };
}

/**
 * A pushed event as stored: timestamp normalised to UTC, decision derived from the type, secret-looking text
 * redacted, origin/actor/received_at/source/session added. Throws VALIDATION_ERROR naming `events.<index>.<field>`.
 */
export function runtimeEvent(
  principal: Principal,
  batch: { source_id: string; session_id?: string },
  input: RuntimeAuditEvent,
  index: number,
  now: Date,
): StoredAuditEvent {
  const at = (field: string, problem: string) =>
    new DomainError('VALIDATION_ERROR', `events.${index}.${field}: ${problem}`, [
      { field: `events.${index}.${field}`, problems: [problem], index },
    ]);
  const timestamp = parseTimestamp(input.timestamp);
  if (!timestamp || timestamp.getUTCFullYear() < 2000) {
    throw at('timestamp', 'is not a valid date after the year 2000');
  }
  if (timestamp.getTime() > now.getTime() + AUDIT_LIMITS.futureSkewSeconds * 1000) {
    throw at('timestamp', 'is more than a day in the future');
  }
  const implied = DECISION_OF_TYPE[input.type];
  if (input.decision && implied && input.decision !== implied) {
    throw at('decision', `contradicts type ${input.type} (which means ${implied})`);
  }
  if (TYPES_REQUIRING_TOOL.includes(input.type) && !input.tool) {
    throw at('tool', `is required for ${input.type}`);
  }

  const event: StoredAuditEvent = {
    event_id: input.event_id,
    type: input.type,
    timestamp: timestamp.toISOString(),
    received_at: now.toISOString(),
    origin: 'runtime',
    actor: actorOf(principal),
    source_id: batch.source_id,
    ...(batch.session_id ? { session_id: batch.session_id } : {}),
  };
  const decision = input.decision ?? implied;
  if (decision) event.decision = decision;
  const redactions: string[] = [];
  for (const field of FREE_TEXT_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    const scrubbed = scrubSecrets(value);
    if (scrubbed.kinds.length) redactions.push(field);
    event[field] = scrubbed.text;
  }
  for (const field of PASSED_THROUGH) {
    if (input[field] !== undefined) (event as unknown as Record<string, unknown>)[field] = input[field];
  }
  if (redactions.length) event.redactions = redactions;
  return event;
}

const ZONED = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * ISO 8601 with a zone, calendar-checked: `Date` alone would read 2026-02-30 as March 2nd, and an
 * investigator must never see a different time than the sender wrote.
 */
export function parseTimestamp(text: string): Date | undefined {
  const m = ZONED.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second, zoneHour, zoneMinute] = m
    .slice(1)
    .map((p) => Number(p ?? 0));
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const valid =
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    zoneHour < 24 &&
    zoneMinute < 60;
  const date = new Date(text);
  return valid && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** A control-plane action as stored. Throws (a programming error, so a 500) on a malformed action. */
export function controlPlaneEvent(principal: Principal, action: AuditAction, now: Date): StoredAuditEvent {
  if (!ACTION_PATTERN.test(action.type) || (RUNTIME_EVENT_TYPES as readonly string[]).includes(action.type)) {
    throw new Error(`audit: "${action.type}" is not a control-plane action name`);
  }
  const event: StoredAuditEvent = {
    event_id: randomUUID(),
    type: action.type,
    timestamp: now.toISOString(),
    received_at: now.toISOString(),
    origin: 'control_plane',
    actor: actorOf(principal),
  };
  if (action.resource_type) event.resource_type = bounded(action.resource_type);
  if (action.resource_id) event.resource_id = bounded(action.resource_id);
  if (action.details) event.details = details(action.type, action.details);
  return event;
}

function details(type: string, input: Record<string, AuditDetailValue>): Record<string, AuditDetailValue> {
  const keys = Object.keys(input).filter((key) => input[key] !== undefined);
  if (keys.length > MAX_DETAILS) throw new Error(`audit: ${type} has more than ${MAX_DETAILS} details`);
  const out: Record<string, AuditDetailValue> = {};
  for (const key of keys) {
    if (!DETAIL_KEY.test(key)) throw new Error(`audit: detail "${key}" of ${type} is not a plain name`);
    if (CREDENTIAL_KEY.test(key))
      throw new Error(`audit: detail "${key}" of ${type} looks like a credential`);
    const value = input[key];
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new Error(`audit: detail "${key}" of ${type} must be an integer`);
    }
    out[key] =
      typeof value === 'string'
        ? bounded(value)
        : Array.isArray(value)
          ? value.slice(0, MAX_DETAILS).map(bounded)
          : value;
  }
  return out;
}

/** Defence in depth for control-plane text: bounded and scrubbed like pushed free text. */
function bounded(text: string): string {
  return scrubSecrets(text.slice(0, MAX_DETAIL_TEXT)).text;
}
