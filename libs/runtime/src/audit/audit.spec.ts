import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  AUDIT_ID_PATTERN,
  AUDIT_LIMITS,
  CALL_OUTCOMES,
  DETECTOR_PATTERN,
  ERROR_CLASS_PATTERN,
  FINGERPRINT_PATTERN,
  SPAN_ID_PATTERN,
  TRACE_ID_PATTERN,
  type RuntimeAuditEvent,
} from '../../../contracts/src/index.js';
import { AuditFile, auditFileConfig, parseSize } from './audit-file.js';
import { ControlPlaneError } from '../../../control-plane-client/src/index.js';
import { MemoryAuditBuffer } from './buffer.js';
import { auditText, buildEvent, randomEventId, type AuditFields } from './events.js';
import { AuditPusher, auditRequestJson, type AuditTransport } from './pusher.js';
import { CallRecord, PendingCalls, outcomeOfAnswer } from './recorder.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abom-audit-spec-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const event = (n: number): RuntimeAuditEvent =>
  buildEvent({ type: 'tool_call.allowed', tool: `t${n}`, request_id: String(n) });

describe('audit events', () => {
  it('carry a random version 4 UUID as event_id, as crypto.randomUUID made it, unique across pool refills', () => {
    const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const ids = Array.from({ length: 5_000 }, () => randomEventId()); // ~20 refills of the 4 KiB pool
    for (const id of ids) {
      expect(id).toMatch(V4);
      expect(id).toMatch(AUDIT_ID_PATTERN);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Every random hex digit takes many values (a stuck byte or a reused pool slice would not).
    for (const at of [0, 7, 9, 12, 15, 17, 20, 22, 24, 35])
      expect(new Set(ids.map((id) => id[at])).size).toBe(16);
    expect(new Set(ids.map((id) => id[19])).size).toBe(4); // the variant digit: 8, 9, a or b
    const a = buildEvent({ type: 'tool_call.allowed' }).event_id;
    const b = buildEvent({ type: 'tool_call.allowed' }).event_id;
    expect(a).toMatch(V4);
    expect(a).not.toBe(b);
  });

  it('keep a numeric request id as sent, and clean one that reads as a secret', () => {
    for (const id of ['0', '7', '123456789012'])
      expect(buildEvent({ type: 'tool_call.allowed', request_id: id }).request_id).toBe(id);
    const card = buildEvent({ type: 'tool_call.allowed', request_id: '4111111111111111' });
    expect(card.request_id).not.toContain('4111111111111111');
  });

  it('keep only what fits the contract: outcome, error class, fingerprints; text cleaned of secrets', () => {
    const built = buildEvent({
      type: 'tool_call.allowed',
      tool: 'read ghp_' + 'Q7wErTy9'.repeat(4) + 'Zx8K',
      outcome: 'upstream_failed',
      error_class: 'connect_econnrefused',
      argument_fingerprint: 'not-a-digest',
      trace_id: 'f'.repeat(32),
    });
    expect(built).toMatchObject({ outcome: 'upstream_failed', error_class: 'connect_econnrefused' });
    expect(built.tool).toMatch(/^read \[REDACTED:/);
    expect(built.argument_fingerprint).toBeUndefined();
    expect(built.trace_id).toBe('f'.repeat(32));
    const bad = buildEvent({
      type: 'tool_call.allowed',
      outcome: 'maybe' as never,
      error_class: 'Not Valid!',
      reason: 'password=hunter2hunter2',
    });
    expect(bad.outcome).toBeUndefined();
    expect(bad.error_class).toBeUndefined();
    expect(bad.reason).not.toContain('hunter2');
    expect(bad.tool).toBe('(none)');
  });

  it('stamp the time exactly as toISOString does, within a second, across seconds and past year 9999', () => {
    const instants = [
      0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1_765_000_000_000, 1_765_000_000_007, 1_765_000_000_070,
      1_765_000_000_999, 1_765_000_001_000, 1_765_000_000_500, 253_402_300_799_999, 253_402_300_800_000,
      8.64e15, -1, -1001, -62_198_755_200_000,
    ];
    for (const ms of [...instants, ...instants.reverse()]) {
      const now = new Date(ms);
      expect(buildEvent({ type: 'tool_call.allowed' }, now).timestamp).toBe(now.toISOString());
    }
    expect(() => buildEvent({ type: 'tool_call.allowed' }, new Date(Number.NaN))).toThrow(RangeError);
  });

  it('the outcome of an answer: result, JSON-RPC error with its code, tool error', () => {
    expect(outcomeOfAnswer({ id: 1, result: {} })).toEqual({ outcome: 'answered' });
    expect(outcomeOfAnswer({ id: 1, error: { code: -32602 } })).toEqual({
      outcome: 'error',
      error_class: 'jsonrpc_-32602',
    });
    expect(outcomeOfAnswer({ id: 1, result: { isError: true } })).toEqual({
      outcome: 'error',
      error_class: 'tool_error',
    });
  });
});

describe('a call is recorded once', () => {
  it('CallRecord: the first settle records, merged over the call; later ones are no-ops', () => {
    const recorded: AuditFields[] = [];
    const call = new CallRecord((f) => recorded.push(f), {
      type: 'tool_call.allowed',
      tool: 'x',
      request_id: '7',
    });
    expect(call.settle({ type: 'response.redacted', tool: undefined, outcome: 'answered' })).toBe(true);
    expect(call.settle({ outcome: 'no_answer' })).toBe(false);
    expect(recorded).toEqual([
      { type: 'response.redacted', tool: 'x', request_id: '7', outcome: 'answered' },
    ]);
  });

  it('PendingCalls: bounded, the oldest evicted as no_answer; a reused id settles the first', () => {
    const recorded: AuditFields[] = [];
    const calls = new PendingCalls(2);
    const held = (id: string) =>
      new CallRecord((f) => recorded.push(f), { type: 'tool_call.allowed', request_id: id });
    calls.hold('1', held('1'));
    calls.hold('2', held('2'));
    calls.hold('3', held('3'));
    expect(recorded).toEqual([
      { type: 'tool_call.allowed', request_id: '1', outcome: 'no_answer', error_class: 'evicted' },
    ]);
    calls.hold('2', held('2'));
    expect(recorded[1]).toMatchObject({ request_id: '2', error_class: 'id_reused' });
    calls.take('3')!.settle({ outcome: 'answered' });
    calls.settleAll({ outcome: 'upstream_failed', error_class: 'stream_closed' });
    expect(recorded.map((r) => [r.request_id, r.outcome])).toEqual([
      ['1', 'no_answer'],
      ['2', 'no_answer'],
      ['3', 'answered'],
      ['2', 'upstream_failed'],
    ]);
    expect(calls.size).toBe(0);
  });
});

describe('memory buffer', () => {
  it('drops the oldest over its bound; an ack removes only what was delivered', async () => {
    const buffer = new MemoryAuditBuffer('s', 3);
    await buffer.append([event(1), event(2)]);
    const batch = (await buffer.next(10, 1 << 20))!;
    expect(batch.events.map((e) => e.tool)).toEqual(['t1', 't2']);
    // While the batch is out, more arrive and the oldest fall off the bound.
    expect(await buffer.append([event(3), event(4), event(5)])).toBe(2);
    await buffer.ack(batch);
    const rest = (await buffer.next(10, 1 << 20))!;
    expect(rest.events.map((e) => e.tool)).toEqual(['t3', 't4', 't5']);
  });
});

describe('one serialisation per event', () => {
  /** Events whose texts need escapes: quotes, backslashes, control and non-ASCII characters, U+2028. */
  const tricky = (n: number): RuntimeAuditEvent =>
    buildEvent({
      type: 'tool_call.denied',
      tool: `t${n} "q" \\ é 😀 \u2028`,
      reason: `line\ttab "${n}" \\u0000 \u2029 ✓`,
      agent: 'ag\u00e9nt',
      request_id: `id-"${n}"`,
      detectors: ['aws_access_key'],
      count: n,
    });

  it('the memory buffer hands each event with its JSON text, in step through drops and acks', async () => {
    const buffer = new MemoryAuditBuffer('s', 3);
    await buffer.append([tricky(1), tricky(2)]);
    const batch = (await buffer.next(10, 1 << 20))!;
    expect(batch.texts).toEqual(batch.events.map((e) => JSON.stringify(e)));
    expect(await buffer.append([tricky(3), tricky(4), tricky(5)])).toBe(2);
    await buffer.ack(batch);
    const rest = (await buffer.next(2, 1 << 20))!;
    expect(rest.events.map((e) => e.count)).toEqual([3, 4]);
    expect(rest.texts).toEqual(rest.events.map((e) => JSON.stringify(e)));
    // Sized by the texts: a bound that fits one event's text (and its separator) takes one.
    const one = (await buffer.next(10, rest.texts![0].length + 1))!;
    expect(one.events).toHaveLength(1);
  });

  it('the memory buffer serialises an event once, when a batch first takes it (not while it waits)', async () => {
    let reads = 0;
    const counted = (n: number): RuntimeAuditEvent => {
      const e = event(n);
      // Read by every JSON.stringify of the event: counts its serialisations.
      Object.defineProperty(e, 'tool', { enumerable: true, get: () => (reads++, `t${n}`) });
      return e;
    };
    const buffer = new MemoryAuditBuffer('s', 100);
    await buffer.append(Array.from({ length: 10 }, (_, n) => counted(n)));
    expect(reads).toBe(0);
    const first = (await buffer.next(3, 1 << 20))!;
    expect(reads).toBe(3);
    expect(first.texts!.map((t) => JSON.parse(t).tool)).toEqual(['t0', 't1', 't2']);
    await buffer.next(3, 1 << 20); // a retry of the same batch (the push failed)
    expect(reads).toBe(3);
    await buffer.ack(first);
    const second = (await buffer.next(3, 1 << 20))!;
    expect(reads).toBe(6);
    expect(second.texts!.map((t) => JSON.parse(t).tool)).toEqual(['t3', 't4', 't5']);
  });

  it('auditRequestJson is JSON.stringify of the request, byte for byte', () => {
    const events = [tricky(1), tricky(2), buildEvent({ type: 'tool_call.allowed' })];
    const texts = events.map((e) => JSON.stringify(e));
    for (const [source, session] of [
      ['laptop:proxy', 's-1'],
      ['q"uote\\', 'é😀\u2028'],
    ])
      expect(auditRequestJson(source, session, texts)).toBe(
        JSON.stringify({ source_id: source, session_id: session, events }),
      );
    expect(auditRequestJson('a', 'b', [])).toBe(
      JSON.stringify({ source_id: 'a', session_id: 'b', events: [] }),
    );
  });

  it('the pusher sends the JSON text of each batch it pushes, also when it resends a refused batch one by one', async () => {
    const sent: Array<{ request: unknown; json?: string }> = [];
    let refuse = true;
    const transport: AuditTransport = (request, _key, json) => {
      sent.push({ request, json });
      if (refuse && request.events.length > 1)
        return Promise.reject(new ControlPlaneError('rejected', 'one of them is malformed'));
      refuse = request.events.length > 1;
      return Promise.resolve({ accepted: request.events.length, duplicates: 0 } as never);
    };
    const pusher = new AuditPusher(new MemoryAuditBuffer('sess', 100), transport, quiet, {
      sourceId: 'src',
      flushMs: 1000,
      maxBackoffMs: 1000,
    });
    await pusher.start();
    for (let n = 1; n <= 3; n++) pusher.record(tricky(n));
    await pusher.flush();
    await pusher.close(1000);
    expect(sent.map((s) => s.request as { events: unknown[] }).map((r) => r.events.length)).toEqual([
      3, 1, 1, 1,
    ]);
    for (const { request, json } of sent) expect(json).toBe(JSON.stringify(request));
  });
});

describe('audit file', () => {
  it('rotates before a line would pass the bound and keeps `keep` files', () => {
    const file = path.join(dir, 'a.jsonl');
    const sink = new AuditFile(
      { path: file, maxBytes: 4096, keep: 2, sourceId: 'src', sessionId: 'sess' },
      quiet,
    );
    sink.open();
    for (let n = 0; n < 200; n++) sink.write(event(n), { tenant: 't' });
    sink.close();
    const names = fs
      .readdirSync(dir)
      .filter((n) => n.startsWith('a.jsonl'))
      .sort();
    expect(names).toEqual(['a.jsonl', 'a.jsonl.1', 'a.jsonl.2']);
    for (const name of names) expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(4096);
    const last = fs.readFileSync(file, 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last)).toMatchObject({
      tool: 't199',
      tenant: 't',
      source_id: 'src',
      session_id: 'sess',
    });
  });

  it('never follows a symlink planted at its path', () => {
    const target = path.join(dir, 'elsewhere');
    fs.writeFileSync(target, '');
    const link = path.join(dir, 'link.jsonl');
    fs.symlinkSync(target, link);
    const sink = new AuditFile({ path: link, maxBytes: 4096, keep: 1, sourceId: 's', sessionId: 's' }, quiet);
    expect(() => sink.open()).toThrow();
  });

  it('checks its flags', () => {
    expect(auditFileConfig({})).toBeUndefined();
    expect(auditFileConfig({ file: 'x' })).toEqual({ path: 'x', maxBytes: 10 * 1024 * 1024, keep: 5 });
    expect(auditFileConfig({ file: 'x', maxSize: '64KiB', keep: '0' })).toEqual({
      path: 'x',
      maxBytes: 65536,
      keep: 0,
    });
    expect(() => auditFileConfig({ file: 'x', maxSize: '1KiB' })).toThrow(/4KiB and 1GiB/);
    expect(() => auditFileConfig({ file: 'x', keep: '-1' })).toThrow(/0-100/);
    expect(() => auditFileConfig({ file: 'x', keep: '101' })).toThrow(/0-100/);
    expect(() => auditFileConfig({ keep: '2' })).toThrow(/need --audit-file/);
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('ten')).toBeUndefined();
  });
});

/**
 * `buildEvent` as it was before it built the event as one literal (fields added one by one, only when defined): the
 * reference whose JSON text the event must keep, key order included.
 */
function referenceEvent(fields: AuditFields, now: Date): Record<string, unknown> {
  const event: Record<string, unknown> = { event_id: 'id', type: fields.type, timestamp: now.toISOString() };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) event[key] = value;
  };
  const match = (value: string | undefined, pattern: RegExp) =>
    typeof value === 'string' && pattern.test(value) ? value : undefined;
  for (const key of ['agent', 'client', 'server', 'method', 'rule_id', 'policy_version'] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value !== '') set(key, auditText(value, AUDIT_LIMITS.nameLength));
  }
  set(
    'tool',
    fields.tool !== undefined
      ? (auditText(fields.tool, AUDIT_LIMITS.nameLength) ?? '(unnamed)')
      : /^tool_call\.|^tool\.drift$/.test(fields.type)
        ? '(none)'
        : undefined,
  );
  set('decision', fields.decision);
  set('reason', fields.reason ? auditText(fields.reason, AUDIT_LIMITS.reasonLength, true) : undefined);
  set('trace_id', match(fields.trace_id, TRACE_ID_PATTERN));
  set('span_id', match(fields.span_id, SPAN_ID_PATTERN));
  const requestId = fields.request_id === undefined ? undefined : String(fields.request_id);
  set(
    'request_id',
    requestId === undefined || /^\d{1,12}$/.test(requestId)
      ? requestId
      : auditText(requestId, AUDIT_LIMITS.idLength),
  );
  set('argument_fingerprint', match(fields.argument_fingerprint, FINGERPRINT_PATTERN));
  set('tool_fingerprint', match(fields.tool_fingerprint, FINGERPRINT_PATTERN));
  set('previous_tool_fingerprint', match(fields.previous_tool_fingerprint, FINGERPRINT_PATTERN));
  const detectors = fields.detectors
    ?.filter((d) => DETECTOR_PATTERN.test(d))
    .slice(0, AUDIT_LIMITS.detectorsPerEvent);
  set('detectors', detectors?.length ? [...new Set(detectors)] : undefined);
  set(
    'count',
    typeof fields.count === 'number' && Number.isFinite(fields.count)
      ? Math.max(0, Math.min(1_000_000_000, Math.floor(fields.count)))
      : undefined,
  );
  set('outcome', fields.outcome && CALL_OUTCOMES.includes(fields.outcome) ? fields.outcome : undefined);
  set('error_class', match(fields.error_class, ERROR_CLASS_PATTERN));
  return event;
}

describe('buildEvent agrees with the reference', () => {
  /** Deterministic field sets (xorshift, fixed seed): each field absent, empty, fitting, or not fitting. */
  function fieldSets(count: number): AuditFields[] {
    let state = 0x6a09e667;
    const rand = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const pick = <T>(...values: T[]): T => values[rand(values.length)];
    const name = () =>
      pick(
        undefined,
        '',
        'echo',
        'x'.repeat(250),
        'a\u0007b\u202e',
        'ghp_' + 'Q7wErTy9'.repeat(4) + 'Zx8K',
        ' pad ',
      );
    return Array.from({ length: count }, () => {
      const fields: Record<string, unknown> = {
        type: pick(
          'tool_call.allowed',
          'tool_call.warned',
          'tool.drift',
          'request.refused',
          'response.redacted',
        ),
      };
      const put = (key: string, value: unknown) => {
        if (value !== undefined || rand(2) === 0) fields[key] = value; // absent, or present as undefined
      };
      for (const key of ['agent', 'client', 'server', 'method', 'rule_id', 'policy_version', 'tool'])
        put(key, name());
      put('decision', pick(undefined, 'block'));
      put('reason', pick(undefined, '', 'denied by rule\nline two', 'key AKIAIOSFODNN7EXAMPLE here'));
      put('trace_id', pick(undefined, '0af7651916cd43dd8448eb211c80319c', 'not-a-trace'));
      put('span_id', pick(undefined, 'b7ad6b7169203331', 'xyz'));
      put('request_id', pick(undefined, '7', '123456789012', '4111111111111111', 'req-\u0000-1'));
      put('argument_fingerprint', pick(undefined, `sha256:${'ab'.repeat(32)}`, 'sha1:xx'));
      put('tool_fingerprint', pick(undefined, `sha256:${'cd'.repeat(32)}`));
      put('previous_tool_fingerprint', pick(undefined, 'bad'));
      put(
        'detectors',
        pick(
          undefined,
          [],
          ['jwt', 'jwt', 'Bad Kind'],
          Array.from({ length: 40 }, (_, k) => `k${k}`),
        ),
      );
      put('count', pick(undefined, 3, -1, 2.7, Number.NaN, 5e9));
      put('outcome', pick(undefined, 'answered', 'no_answer', 'sideways'));
      put('error_class', pick(undefined, 'client_gone', 'Bad Class!'));
      return fields as unknown as AuditFields;
    });
  }

  it('the same JSON text, key order included, for generated fields', () => {
    const now = new Date('2026-12-07T07:30:15.042Z');
    for (const fields of fieldSets(3000)) {
      const built = buildEvent(fields, now);
      expect(JSON.stringify({ ...built, event_id: 'id' })).toBe(JSON.stringify(referenceEvent(fields, now)));
    }
  });
});
