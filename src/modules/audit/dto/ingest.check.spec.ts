import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { AUDIT_LIMITS } from '../../../../libs/contracts/src/index.js';
import { createValidationPipe } from '../../../core/http/validation.js';
import { isPlainValidIngest } from './ingest.check.js';
import { IngestAuditDto } from './ingest.dto.js';

/**
 * The hand-written check against the DTOs it stands for, on a full batch and on every mutation of every field of it
 * (each value replaced by each of many wrong, hostile and edge values; fields dropped; unknown and prototype-named
 * fields added), and on random events drawn from a hostile alphabet: the check never accepts what the DTOs refuse,
 * it accepts every body they accept that has no `null` and no prototype-named field (so real pushes take the
 * shortcut), and what the handler receives is the same JSON either way.
 */
const decorators = createValidationPipe({ decoratorsOnly: true });
const pipe = createValidationPipe();
const metadata = { type: 'body' as const, metatype: IngestAuditDto, data: '' };

async function byDecorators(body: unknown): Promise<{ ok: boolean; value?: unknown }> {
  try {
    return { ok: true, value: await decorators.transform(structuredClone(body), metadata) };
  } catch {
    return { ok: false };
  }
}

const hex = (n: number) => 'a1'.repeat(n / 2);
const emoji = (n: number) => '\u{1F600}'.repeat(n);
const full = () => ({
  source_id: 'laptop-1.example:gateway_a-b',
  session_id: 'gw-1:2',
  events: [
    {
      event_id: '0b7f1f4e-5c1d-4a51-9e55-8a3f3c0e9f10',
      type: 'tool_call.warned',
      timestamp: '2026-12-07T03:00:00.123+01:00',
      agent: 'laptop-42',
      client: 'claude-desktop',
      server: 'filesystem',
      tool: 'write_file',
      method: 'tools/call',
      decision: 'warn',
      rule_id: 'no-writes',
      reason: 'path /etc/hosts\tis outside\nthe roots',
      trace_id: hex(32),
      span_id: hex(16),
      request_id: '42',
      argument_fingerprint: `sha256:${hex(64)}`,
      previous_tool_fingerprint: `sha256:${hex(64)}`,
      tool_fingerprint: `sha256:${hex(64)}`,
      detectors: ['aws_access_key_id', 'email'],
      policy_version: 'bench@3',
      count: 3,
      outcome: 'answered',
      error_class: 'http_502',
    },
    { event_id: 'e2', type: 'policy.loaded', timestamp: '2026-12-07T02:00:00Z' },
  ],
});

/** Values each field is tried with: wrong types, edges of every length limit and pattern, hostile strings. */
const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  5,
  1_000_000_000,
  1_000_000_001,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '5',
  '',
  ' ',
  'x',
  'X',
  'tool_call.allowed',
  'policy.loaded',
  'api_key.created',
  'allow',
  'deny',
  'block',
  'answered',
  'timeout',
  'Timeout',
  'http_502',
  '2026-12-07T03:00:00Z',
  '2026-12-07T03:00:00',
  '2026-12-07 03:00:00Z',
  '2026-12-07T03:00:00.1234567890Z',
  '2026-02-30T03:00:00Z',
  `sha256:${hex(64)}`,
  `sha256:${hex(62)}`,
  `sha256:${hex(64).toUpperCase()}`,
  hex(32),
  hex(16),
  hex(32).toUpperCase(),
  'a'.repeat(64),
  'a'.repeat(65),
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(200),
  'a'.repeat(201),
  'a'.repeat(1000),
  'a'.repeat(1001),
  emoji(128),
  emoji(129),
  emoji(200),
  emoji(201),
  emoji(1000),
  emoji(1001),
  'e\uFE0F'.repeat(200),
  'e\uFE0F'.repeat(201),
  '\uFE0F',
  '\uFE0F'.repeat(201),
  'a\u0000b',
  'a\u0007b',
  'a\tb',
  'a\nb',
  'a\rb',
  'a\u001bb',
  'a\u007fb',
  'a\u0085b',
  'a\u009fb',
  'a\u2028b',
  'a\u202Eb',
  'a\u202Ab',
  'a\u2066b',
  'a\u2069b',
  'a\u200Fb',
  'a\uD800b',
  'a\uDC00b',
  '\uD83D',
  '\uDE00\uD83D',
  'a\uD83D\uDE00b',
  'ok.id:1-2_3',
  'id with space',
  'bad/id',
  '../../etc',
  '__proto__',
  'constructor',
  'Bearer abcdefghijklmnopqrstuvwxyz',
  [],
  [''],
  ['x'],
  ['aws_access_key_id'],
  ['AWS'],
  [5],
  [null],
  [[]],
  [{}],
  {},
  { toString: 'x' },
  Array.from({ length: 32 }, (_, i) => `d${i}`),
  Array.from({ length: 33 }, (_, i) => `d${i}`),
];

type Json = Record<string, unknown> | unknown[];

/** Every path to a value in `body` (object keys and array indexes). */
function paths(node: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof node !== 'object' || node === null) return [];
  const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...paths((node as Record<string | number, unknown>)[key], path)];
  });
}

function at(body: unknown, path: Array<string | number>): Json {
  return path.reduce((node, key) => (node as Record<string | number, unknown>)[key], body) as Json;
}

/** Field names the DTOs do not reject by the whitelist (class-validator skips Object.prototype's members). */
const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

/** A copy as JSON.parse makes it (structuredClone's objects may come from another realm under jest). */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function mutations(): Array<[string, unknown]> {
  const base = full();
  const out: Array<[string, unknown]> = [['full', base]];
  for (const path of paths(base)) {
    const key = path[path.length - 1];
    for (const value of [...VALUES, undefined]) {
      const body = clone(base);
      const parent = at(body, path.slice(0, -1)) as Record<string | number, unknown>;
      if (value === undefined && !Array.isArray(parent)) delete parent[key];
      else parent[key] = value;
      out.push([`${path.join('.')} = ${JSON.stringify(value)?.slice(0, 30)}`, body]);
    }
  }
  // An unknown or prototype-named field at every object level; `__proto__` as an own key, as JSON.parse makes it.
  for (const path of [[], ...paths(base)]) {
    for (const extra of ['token', 'events ', 'Event_id', ...PROTOTYPE_NAMES]) {
      const body = clone(base);
      const node = at(body, path);
      if (typeof node !== 'object' || node === null || Array.isArray(node)) continue;
      Object.defineProperty(node, extra, {
        value: 'x',
        enumerable: true,
        configurable: true,
        writable: true,
      });
      out.push([`${path.join('.')}.${extra} added`, body]);
    }
  }
  const event = base.events[0];
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...event, event_id: `e${i}` }));
  out.push([`${AUDIT_LIMITS.eventsPerBatch} events`, { ...base, events: many(AUDIT_LIMITS.eventsPerBatch) }]);
  out.push(['too many events', { ...base, events: many(AUDIT_LIMITS.eventsPerBatch + 1) }]);
  out.push(['an event of a parsed __proto__', { ...base, events: [JSON.parse('{"__proto__":{"x":1}}')] }]);
  out.push(['a batch with a parsed __proto__', JSON.parse('{"__proto__":{"source_id":"s","events":[]}}')]);
  out.push(['an event inheriting its fields', { ...base, events: [Object.create(event) as unknown] }]);
  out.push([
    'an event without a prototype',
    { ...base, events: [Object.assign(Object.create(null), event)] },
  ]);
  out.push(['a nested batch', { ...base, events: [base] }]);
  for (const body of [[], [base], 'batch', 5, null, true, {}, { events: [event] }])
    out.push([`body ${JSON.stringify(body)?.slice(0, 40)}`, body]);
  return out;
}

/** Random events from a hostile alphabet: each text field drawn, dropped or mistyped (a seeded generator). */
function randomBodies(count: number): Array<[string, unknown]> {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const PLAIN = ['a', 'Z', '0', '-', '.', ':', '_', ' ', 'é', '\ud83d\ude00'];
  const ALPHABET = [
    'a',
    'Z',
    '0',
    '-',
    '.',
    ':',
    '_',
    ' ',
    '/',
    '\t',
    '\n',
    '\r',
    '\u0000',
    '\u0085',
    '\u00a0',
    '\u200b',
    '\u202e',
    '\u2067',
    '\ud800',
    '\udfff',
    '\ud83d\ude00',
    '\ufe0f',
    '\ufeff',
    'é',
    '"',
    '\\',
  ];
  const text = (max: number) =>
    Array.from({ length: Math.floor(next() * next() * (max + 3)) }, () =>
      next() < 0.995 ? pick(PLAIN) : pick(ALPHABET),
    ).join('');
  const fields = (full().events[0] as Record<string, unknown>) ?? {};
  const out: Array<[string, unknown]> = [];
  for (let i = 0; i < count; i++) {
    const event: Record<string, unknown> = { ...fields, event_id: `r${i}` };
    // One to three fields changed: dropped, random text (mostly plain characters), or a value of VALUES.
    for (let changes = 1 + Math.floor(next() * 3); changes > 0; changes--) {
      const key = pick(Object.keys(fields));
      const roll = next();
      if (roll < 0.2) delete event[key];
      else if (roll < 0.9) event[key] = text(key === 'reason' ? 1003 : key === 'request_id' ? 130 : 203);
      else event[key] = pick(VALUES);
    }
    out.push([`random ${i}: ${JSON.stringify(event).slice(0, 120)}`, { ...full(), events: [event] }]);
  }
  return out;
}

const hasNull = (value: unknown): boolean =>
  value === null || (typeof value === 'object' && Object.values(value as object).some(hasNull));
const hasPrototypeName = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (Object.keys(value).some((key) => PROTOTYPE_NAMES.includes(key)) ||
    Object.values(value).some(hasPrototypeName));
/**
 * class-validator lets an event that is an array (`[]`, `[[]]`) through `@ValidateNested` (the service then
 * refuses it: it has no timestamp); the check leaves such a body to the DTOs, so it gets the same answer as before.
 */
const eventsAreObjects = (body: unknown): boolean => {
  const events = (body as { events?: unknown } | null)?.events;
  return (
    !Array.isArray(events) || events.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e))
  );
};

/** What JSON.parse makes: finite numbers, and objects of Object.prototype all the way down. */
const isPlainJson = (value: unknown): boolean => {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return true;
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isPlainJson);
};

async function compare(
  cases: Array<[string, unknown]>,
): Promise<{ disagreements: string[]; accepted: number }> {
  const disagreements: string[] = [];
  let accepted = 0;
  for (const [label, body] of cases) {
    const fast = isPlainValidIngest(body);
    const slow = await byDecorators(body);
    if (fast && !slow.ok) disagreements.push(`${label}: the check accepts what the DTOs refuse`);
    const plain = !hasNull(body) && !hasPrototypeName(body) && isPlainJson(body) && eventsAreObjects(body);
    if (!fast && slow.ok && plain) disagreements.push(`${label}: the DTOs accept, the check does not`);
    if (fast && slow.ok) {
      accepted++;
      const given = await pipe.transform(body, metadata);
      expect(given).toBe(body);
      if (JSON.stringify(given) !== JSON.stringify(slow.value)) disagreements.push(`${label}: other JSON`);
    }
  }
  return { disagreements, accepted };
}

describe('isPlainValidIngest against the DTOs', () => {
  const cases = mutations();

  it(`agrees with class-validator on ${cases.length} mutated bodies, and the handler gets the same JSON`, async () => {
    const { disagreements, accepted } = await compare(cases);
    expect(disagreements).toEqual([]);
    expect(accepted).toBeGreaterThan(200);
  });

  it('agrees with class-validator on 3,000 random events from a hostile alphabet', async () => {
    const { disagreements, accepted } = await compare(randomBodies(3000));
    expect(disagreements).toEqual([]);
    // Both sides are exercised: some random events pass, most do not.
    expect(accepted).toBeGreaterThan(50);
    expect(accepted).toBeLessThan(2900);
  });

  it('refuses each kind of hostile text the DTOs refuse (a check that accepted them would fail here)', () => {
    const withTool = (tool: unknown) => ({ ...full(), events: [{ ...full().events[0], tool }] });
    const withReason = (reason: unknown) => ({ ...full(), events: [{ ...full().events[0], reason }] });
    for (const bad of [
      'a\u0000b',
      'a\u001bb',
      'a\u0085b',
      'a\tb',
      'a\nb',
      'a\u202Eb',
      'a\u2066b',
      'a\uD800b',
    ])
      expect(isPlainValidIngest(withTool(bad))).toBe(false);
    for (const bad of ['a\u0000b', 'a\rb', 'a\u202Eb', 'a\uDC00', 'a'.repeat(1001), ''])
      expect(isPlainValidIngest(withReason(bad))).toBe(false);
    expect(isPlainValidIngest(withReason('line\tone\nline two'))).toBe(true);
    expect(isPlainValidIngest(withTool('a'.repeat(201)))).toBe(false);
    expect(isPlainValidIngest(withTool(emoji(200)))).toBe(true);
    expect(isPlainValidIngest(withTool(emoji(201)))).toBe(false);
    expect(isPlainValidIngest({ ...full(), events: [] })).toBe(false);
    expect(isPlainValidIngest({ ...full(), events: [{ ...full().events[0], count: '3' }] })).toBe(false);
    expect(isPlainValidIngest({ ...full(), events: [{ ...full().events[0], extra: 1 }] })).toBe(false);
    expect(isPlainValidIngest({ ...full(), events: [[full().events[0]]] })).toBe(false);
  });

  it('a refused body still gets the DTOs answer, word for word, through the global pipe', async () => {
    const body = { ...full(), events: [full().events[1], { ...full().events[0], tool: 'a\u202Eb' }] };
    await expect(pipe.transform(body, metadata)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message:
        'events.1.tool: events.1.tool must be text without control or bidirectional-override characters',
    });
  });
});
