import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { RuntimeAuditEvent } from '../../../contracts/src/index.js';
import { AuditFile, auditFileConfig, parseSize } from './audit-file.js';
import { ControlPlaneError } from '../../../control-plane-client/src/index.js';
import { MemoryAuditBuffer } from './buffer.js';
import { buildEvent, type AuditFields } from './events.js';
import { AuditPusher, auditRequestJson, type AuditTransport } from './pusher.js';
import { CallRecord, PendingCalls, outcomeOfAnswer } from './recorder.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abom-audit-spec-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const event = (n: number): RuntimeAuditEvent =>
  buildEvent({ type: 'tool_call.allowed', tool: `t${n}`, request_id: String(n) });

describe('audit events', () => {
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
