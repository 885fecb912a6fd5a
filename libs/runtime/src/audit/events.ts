import { RANDOM_POOL, takeRandom } from '../random-pool.js';
import {
  AUDIT_ID_PATTERN,
  AUDIT_LIMITS,
  DETECTOR_PATTERN,
  ERROR_CLASS_PATTERN,
  FINGERPRINT_PATTERN,
  SPAN_ID_PATTERN,
  TRACE_ID_PATTERN,
  CALL_OUTCOMES,
  type RuntimeAuditEvent,
} from '../../../contracts/src/index.js';
import { redactText } from '../../../detectors/src/index.js';
import { scrubSecrets } from '../../../redaction/src/index.js';

/** An event as a pipeline step states it: the contract's fields, without the id and time the recorder adds. */
export type AuditFields = Omit<RuntimeAuditEvent, 'event_id' | 'timestamp'>;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const ALL_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * Text fit for the audit ledger (docs/audit.md "Text"): secrets redacted as the ledger redacts them
 * (`libs/redaction`) and as the detectors see them, control characters (tab and newline only in `reason`), lone
 * surrogates and bidi overrides removed, bounded without splitting a surrogate pair.
 */
export function auditText(value: string, max: number, multiline = false): string | undefined {
  const bounded = value.length > max * 4 ? value.slice(0, max * 4) : value;
  let text = scrubSecrets(redactText(bounded).text).text;
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
  const known = nameCache.get(value); // one lookup for a name that cleans to something (all but the blank ones)
  if (known !== undefined || nameCache.has(value)) return known;
  const clean = auditText(value, AUDIT_LIMITS.nameLength);
  if (nameCache.size >= 1000) nameCache.clear();
  nameCache.set(value, clean);
  return clean;
}

/**
 * A request id of at most 12 digits, what clients send on every call: no credential pattern (the shortest digit-only
 * one, a card number, has 13) nor any character auditText removes can be in it, so it is kept without the scan.
 */
const PLAIN_ID = /^\d{1,12}$/;

const NEEDS_TOOL = /^tool_call\.|^tool\.drift$/;

/** The second `isoTime` last formatted (ms since the epoch, a multiple of 1000) and its text up to the dot. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()`, formatted once per second: the date and time up to the seconds are reused and only the
 * milliseconds appended (V8's `toISOString` was ~1% of the gateway's CPU, one call per audited call). Before 1970
 * or for an invalid date it is `toISOString` itself (which throws on an invalid one, as before).
 */
function isoTime(ms: number): string {
  if (!(ms >= 0)) return new Date(ms).toISOString();
  const within = ms % 1000;
  const second = ms - within;
  if (second !== isoSecond) {
    const iso = new Date(second).toISOString(); // …T12:34:56.000Z, or ±YYYYYY-… past year 9999
    isoPrefix = iso.slice(0, -4);
    isoSecond = second;
  }
  return isoPrefix + (within < 10 ? '00' : within < 100 ? '0' : '') + within + 'Z';
}

/** One id's text, written in place and read out once. */
const idText = Buffer.alloc(36);
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes it: 122 bits from the CSPRNG. Written into a
 * buffer and read out as one string: Node's `randomUUID` joins 20 short strings per id (~0.5 KiB of garbage per
 * audited call).
 */
export function randomEventId(): string {
  const at = takeRandom(16); // 16 bytes from the shared CSPRNG pool
  RANDOM_POOL[at + 6] = (RANDOM_POOL[at + 6] & 0x0f) | 0x40; // version 4
  RANDOM_POOL[at + 8] = (RANDOM_POOL[at + 8] & 0x3f) | 0x80; // variant 10
  let out = 0;
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) idText[out++] = 0x2d; // -
    const byte = RANDOM_POOL[at + k];
    idText[out++] = HEX_DIGITS[byte >> 4];
    idText[out++] = HEX_DIGITS[byte & 0x0f];
  }
  return idText.toString('latin1', 0, 36);
}

/**
 * A contract-valid runtime event with a fresh, unguessable `event_id` (re-sending it later is harmless; nobody can
 * pre-empt or collide with it). Every text is passed through {@link auditText}; fields that do not fit their
 * pattern (trace ids, fingerprints, detectors, error class) are left out rather than sent to be refused.
 *
 * Built as one object literal, every field in its place (undefined where left out: `JSON.stringify`, which every
 * consumer writes it with, omits those, so the text is what adding the fields one by one gave), not grown field by
 * field (a larger property store allocated at every few fields).
 */
export function buildEvent(fields: AuditFields, now?: Date): RuntimeAuditEvent {
  const requestId = fields.request_id === undefined ? undefined : String(fields.request_id);
  const detectors = fields.detectors
    ?.filter((d) => DETECTOR_PATTERN.test(d))
    .slice(0, AUDIT_LIMITS.detectorsPerEvent);
  return {
    event_id: randomEventId(),
    type: fields.type,
    timestamp: isoTime(now === undefined ? Date.now() : now.getTime()),
    agent: nameOf(fields.agent),
    client: nameOf(fields.client),
    server: nameOf(fields.server),
    method: nameOf(fields.method),
    rule_id: nameOf(fields.rule_id),
    policy_version: nameOf(fields.policy_version),
    tool:
      fields.tool !== undefined
        ? (auditName(fields.tool) ?? '(unnamed)')
        : NEEDS_TOOL.test(fields.type)
          ? '(none)'
          : undefined,
    decision: fields.decision,
    reason: fields.reason ? auditText(fields.reason, AUDIT_LIMITS.reasonLength, true) : undefined,
    trace_id: match(fields.trace_id, TRACE_ID_PATTERN),
    span_id: match(fields.span_id, SPAN_ID_PATTERN),
    request_id:
      requestId === undefined || PLAIN_ID.test(requestId)
        ? requestId
        : auditText(requestId, AUDIT_LIMITS.idLength),
    argument_fingerprint: match(fields.argument_fingerprint, FINGERPRINT_PATTERN),
    tool_fingerprint: match(fields.tool_fingerprint, FINGERPRINT_PATTERN),
    previous_tool_fingerprint: match(fields.previous_tool_fingerprint, FINGERPRINT_PATTERN),
    detectors: detectors?.length ? [...new Set(detectors)] : undefined,
    count:
      typeof fields.count === 'number' && Number.isFinite(fields.count)
        ? Math.max(0, Math.min(1_000_000_000, Math.floor(fields.count)))
        : undefined,
    outcome: fields.outcome && CALL_OUTCOMES.includes(fields.outcome) ? fields.outcome : undefined,
    error_class: match(fields.error_class, ERROR_CLASS_PATTERN),
  };
}

/** A name field (agent, client, server, method, rule, policy version) cleaned once, or left out when empty. */
function nameOf(value: string | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? auditName(value) : undefined;
}

function match(value: string | undefined, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}

/** An id fit for `source_id` / `session_id`: the contract's id alphabet, bounded. */
export function auditId(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, AUDIT_LIMITS.idLength);
  return AUDIT_ID_PATTERN.test(clean) ? clean : 'unknown';
}
