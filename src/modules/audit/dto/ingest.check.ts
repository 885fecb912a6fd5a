import { length } from 'class-validator';
import {
  AUDIT_ID_PATTERN,
  AUDIT_LIMITS,
  CALL_OUTCOMES,
  DECISIONS,
  DETECTOR_PATTERN,
  ERROR_CLASS_PATTERN,
  FINGERPRINT_PATTERN,
  RUNTIME_EVENT_TYPES,
  SOURCE_ID_PATTERN,
  SPAN_ID_PATTERN,
  TRACE_ID_PATTERN,
} from '../../../../libs/contracts/src/index.js';
import { ISO_WITH_ZONE, MULTI_LINE, SINGLE_LINE } from './text.js';

/**
 * A hand-written pass over an audit batch that says "the DTOs of ingest.dto.ts accept this as it is", in one walk
 * and without building DTO instances or error trees (class-transformer and class-validator were ~36% of the
 * control plane's CPU under audit ingest; this, a few percent).
 *
 * It only ever accepts: `true` must imply that the global ValidationPipe would accept the body unchanged (every
 * rule of the DTOs, the whitelist of fields included), and then the plain body goes to the handler. `false` means
 * "not sure", never "invalid": the body then goes through class-validator as before, which accepts it (an optional
 * field sent as `null`, a field named like an `Object.prototype` member) or answers the 400 it always did, word for
 * word. So the error format cannot drift, and a rule missed here shows as a slow acceptance or a refusal by the
 * DTOs, never as a weaker check. The patterns are the DTOs' own (libs/contracts, text.ts); the spec beside this
 * file compares the two on many hostile bodies; keep it in step with the DTOs.
 */
export function isPlainValidIngest(body: unknown): boolean {
  if (!isRecord(body) || !onlyKeys(body, BATCH_KEYS)) return false;
  if (typeof body.source_id !== 'string' || !SOURCE_ID_PATTERN.test(body.source_id)) return false;
  if (body.session_id !== undefined && !isPattern(body.session_id, AUDIT_ID_PATTERN)) return false;
  const events = body.events;
  if (!Array.isArray(events) || events.length < 1 || events.length > AUDIT_LIMITS.eventsPerBatch)
    return false;
  for (const event of events) if (!isEvent(event)) return false;
  return true;
}

type Fields = Record<string, unknown>;

const NAME = AUDIT_LIMITS.nameLength;
const BATCH_KEYS = new Set(['source_id', 'session_id', 'events']);
const EVENT_KEYS = new Set([
  'event_id',
  'type',
  'timestamp',
  'agent',
  'client',
  'server',
  'tool',
  'method',
  'decision',
  'rule_id',
  'reason',
  'trace_id',
  'span_id',
  'request_id',
  'argument_fingerprint',
  'previous_tool_fingerprint',
  'tool_fingerprint',
  'detectors',
  'policy_version',
  'count',
  'outcome',
  'error_class',
]);
const TYPES = new Set<unknown>(RUNTIME_EVENT_TYPES);
const DECISION_SET = new Set<unknown>(DECISIONS);
const OUTCOMES = new Set<unknown>(CALL_OUTCOMES);

/** An object as JSON.parse makes it: fields read from it are its own (or Object.prototype's, none of ours). */
function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** The whitelist: every own key is a declared field (forbidNonWhitelisted). */
function onlyKeys(value: Fields, allowed: Set<string>): boolean {
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

/** `@IsString() @Matches(pattern)` (none of the patterns is global or sticky, so `test` keeps no state). */
function isPattern(value: unknown, pattern: RegExp): boolean {
  return typeof value === 'string' && pattern.test(value);
}

/**
 * `@IsPlainText(max)` of text.ts: `@IsString() @Length(1, max) @Matches(SINGLE_LINE or MULTI_LINE)`. class-validator
 * counts a surrogate pair (and a character with its presentation selector) as one, and a non-empty string counts at
 * least 1 by that count, so a non-empty string of at most `max` UTF-16 units always passes the length and a longer
 * one is asked to class-validator's own `length`.
 */
function isPlainText(value: unknown, max: number, multiline = false): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    (value.length <= max || length(value, 1, max)) &&
    (multiline ? MULTI_LINE : SINGLE_LINE).test(value)
  );
}

const optionalText = (value: unknown, max: number = NAME) => value === undefined || isPlainText(value, max);
const optionalPattern = (value: unknown, pattern: RegExp) => value === undefined || isPattern(value, pattern);

/** `@IsOptional() @IsArray() @ArrayMaxSize(32) @IsString({ each }) @Matches(DETECTOR_PATTERN, { each })`. */
function isDetectors(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value) || value.length > AUDIT_LIMITS.detectorsPerEvent) return false;
  for (const item of value) if (!isPattern(item, DETECTOR_PATTERN)) return false;
  return true;
}

/** `@IsOptional() @IsInt() @Min(0) @Max(1_000_000_000)`: a JSON number, never a numeric string. */
function isCount(value: unknown): boolean {
  return (
    value === undefined ||
    (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000_000_000)
  );
}

function isEvent(value: unknown): boolean {
  return (
    isRecord(value) &&
    onlyKeys(value, EVENT_KEYS) &&
    isPattern(value.event_id, AUDIT_ID_PATTERN) &&
    TYPES.has(value.type) &&
    isPattern(value.timestamp, ISO_WITH_ZONE) &&
    optionalText(value.agent) &&
    optionalText(value.client) &&
    optionalText(value.server) &&
    optionalText(value.tool) &&
    optionalText(value.method) &&
    (value.decision === undefined || DECISION_SET.has(value.decision)) &&
    optionalText(value.rule_id) &&
    (value.reason === undefined || isPlainText(value.reason, AUDIT_LIMITS.reasonLength, true)) &&
    optionalPattern(value.trace_id, TRACE_ID_PATTERN) &&
    optionalPattern(value.span_id, SPAN_ID_PATTERN) &&
    optionalText(value.request_id, AUDIT_LIMITS.idLength) &&
    optionalPattern(value.argument_fingerprint, FINGERPRINT_PATTERN) &&
    optionalPattern(value.previous_tool_fingerprint, FINGERPRINT_PATTERN) &&
    optionalPattern(value.tool_fingerprint, FINGERPRINT_PATTERN) &&
    isDetectors(value.detectors) &&
    optionalText(value.policy_version) &&
    isCount(value.count) &&
    (value.outcome === undefined || OUTCOMES.has(value.outcome)) &&
    optionalPattern(value.error_class, ERROR_CLASS_PATTERN)
  );
}
