import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { AUDIT_LIMITS } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

const ok = () => auditEvent();
const batch = (events: unknown[], extra: Record<string, unknown> = {}) => ({
  source_id: 'gw-1',
  events,
  ...extra,
});
/** A batch whose event at `index` is replaced. */
const withBad = (index: number, bad: unknown) =>
  batch([ok(), ok(), ok(), ok()].map((e, i) => (i === index ? bad : e)));

describe('audit bad input: a 4xx naming the index and field, and nothing written', () => {
  let t: TestApp;
  let gateway: string;
  let analyst: string;
  let snapshot: string;
  const state = async () =>
    JSON.stringify(
      await t.db.dataSource.query(
        `SELECT (SELECT count(*) FROM audit_entries) AS entries, (SELECT coalesce(sum(seq), 0) FROM audit_heads) AS heads,
                (SELECT count(*) FROM audit_checkpoints) AS checkpoints`,
      ),
    );
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_MAX_BODY_BYTES: String(1024 * 1024) } });
    const tenant = await createTenant(t.app);
    gateway = (await createKey(t.app, tenant, 'gateway')).raw;
    analyst = (await createKey(t.app, tenant, 'analyst')).raw;
  });
  beforeEach(async () => {
    snapshot = await state();
  });
  afterAll(() => t.close());

  const post = (payload: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/proxy/audit',
      headers: { ...bearer(gateway), 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it.each([
    ['malformed JSON', '{"source_id":"gw-1","events":[', 'MALFORMED_JSON', undefined],
    ['a tenant in the body', batch([ok()], { tenant_id: 'other' }), 'VALIDATION_ERROR', 'tenant_id'],
    ['an unknown top-level field', batch([ok()], { alerts: [] }), 'VALIDATION_ERROR', 'alerts'],
    ['no source_id', { events: [ok()] }, 'VALIDATION_ERROR', 'source_id'],
    ['a source_id with spaces', batch([ok()], { source_id: 'my laptop' }), 'VALIDATION_ERROR', 'source_id'],
    ['events not an array', batch([], { events: { 0: ok() } }), 'VALIDATION_ERROR', 'events'],
    ['no events', batch([]), 'VALIDATION_ERROR', 'events'],
    ['an event that is not an object', withBad(2, 'tool_call.denied'), 'VALIDATION_ERROR', 'events.2'],
    [
      'an unknown field in event 3',
      withBad(3, { ...ok(), arguments: { path: '/etc' } }),
      'VALIDATION_ERROR',
      'events.3.arguments',
    ],
    [
      'a tenant inside an event',
      withBad(1, { ...ok(), tenant_id: 'other' }),
      'VALIDATION_ERROR',
      'events.1.tenant_id',
    ],
    [
      'an unknown type',
      withBad(0, { ...ok(), type: 'tool_call.exploded' }),
      'VALIDATION_ERROR',
      'events.0.type',
    ],
    [
      'a control-plane type',
      withBad(0, { ...ok(), type: 'api_key.created' }),
      'VALIDATION_ERROR',
      'events.0.type',
    ],
    ['a numeric event_id', withBad(1, { ...ok(), event_id: 42 }), 'VALIDATION_ERROR', 'events.1.event_id'],
    [
      'an event_id with a slash',
      withBad(1, { ...ok(), event_id: 'a/b' }),
      'VALIDATION_ERROR',
      'events.1.event_id',
    ],
    [
      'a timestamp without zone',
      withBad(2, { ...ok(), timestamp: '2026-01-01T10:00:00' }),
      'VALIDATION_ERROR',
      'events.2.timestamp',
    ],
    [
      'an impossible date',
      withBad(2, { ...ok(), timestamp: '2026-02-30T10:00:00Z' }),
      'VALIDATION_ERROR',
      'events.2.timestamp',
    ],
    [
      'a date far in the future',
      withBad(2, { ...ok(), timestamp: '2099-01-01T00:00:00Z' }),
      'VALIDATION_ERROR',
      'events.2.timestamp',
    ],
    ['a count as a string', withBad(1, { ...ok(), count: '3' }), 'VALIDATION_ERROR', 'events.1.count'],
    ['a negative count', withBad(1, { ...ok(), count: -1 }), 'VALIDATION_ERROR', 'events.1.count'],
    [
      'a malformed trace id',
      withBad(0, { ...ok(), trace_id: 'not-hex' }),
      'VALIDATION_ERROR',
      'events.0.trace_id',
    ],
    [
      'raw arguments where a fingerprint belongs',
      withBad(3, { ...ok(), argument_fingerprint: '{"api_key":"abc"}' }),
      'VALIDATION_ERROR',
      'events.3.argument_fingerprint',
    ],
    [
      'a decision the type contradicts',
      withBad(1, { ...ok(), decision: 'allow' }),
      'VALIDATION_ERROR',
      'events.1.decision',
    ],
    [
      'an unknown decision',
      withBad(1, { ...ok(), decision: 'maybe' }),
      'VALIDATION_ERROR',
      'events.1.decision',
    ],
    [
      'a tool call without a tool',
      withBad(1, { ...ok(), tool: undefined }),
      'VALIDATION_ERROR',
      'events.1.tool',
    ],
    [
      'a control character in a name',
      withBad(2, { ...ok(), tool: 'rm\u0000' }),
      'VALIDATION_ERROR',
      'events.2.tool',
    ],
    [
      'a bidi override in a name',
      withBad(2, { ...ok(), agent: 'evil\u202egnp.exe' }),
      'VALIDATION_ERROR',
      'events.2.agent',
    ],
    ['a lone surrogate', withBad(2, { ...ok(), reason: 'x\ud800y' }), 'VALIDATION_ERROR', 'events.2.reason'],
    [
      'a reason over the limit',
      withBad(1, { ...ok(), reason: 'x'.repeat(AUDIT_LIMITS.reasonLength + 1) }),
      'VALIDATION_ERROR',
      'events.1.reason',
    ],
    [
      'a tool name over the limit',
      withBad(1, { ...ok(), tool: 't'.repeat(201) }),
      'VALIDATION_ERROR',
      'events.1.tool',
    ],
    [
      'too many detectors',
      withBad(0, { ...ok(), detectors: Array(33).fill('email') }),
      'VALIDATION_ERROR',
      'events.0.detectors',
    ],
    [
      'a detector with spaces',
      withBad(0, { ...ok(), detectors: ['aws key'] }),
      'VALIDATION_ERROR',
      'events.0.detectors',
    ],
    [
      'too many events',
      batch(Array.from({ length: AUDIT_LIMITS.eventsPerBatch + 1 }, ok)),
      'VALIDATION_ERROR',
      'events',
    ],
  ])('%s → 400 (%s, naming %s)', async (_label, payload, code, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    if (field) {
      expect(res.json().error.message).toContain(field);
      expect(
        res
          .json()
          .error.details.map((d: { field: string }) => d.field)
          .join(' '),
      ).toContain(field);
    }
    expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(await state()).toBe(snapshot);
  });

  it('one bad event among 999 good ones: the batch is refused, its index named, nothing written', async () => {
    const events = Array.from({ length: 999 }, ok);
    events[517] = { ...events[517], timestamp: 'yesterday' };
    const res = await post(batch(events));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('events.517.timestamp');
    expect(await state()).toBe(snapshot);
  });

  it('a body of 300,000 empty events is refused by count before validation walks it (was an OOM)', async () => {
    const started = Date.now();
    const res = await post('{"source_id":"gw-1","events":[' + Array(300_000).fill('{}').join(',') + ']}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(
      /^events (has more than 10000 elements|: must contain at most 1000 events)/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await state()).toBe(snapshot);
  });

  it('the same event id twice with different content in one batch → 400 naming the second', async () => {
    const event = ok();
    const res = await post(batch([ok(), event, { ...event, tool: 'other' }]));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('events.2.event_id');
    expect(await state()).toBe(snapshot);
  });

  it('a full batch of ordinary events fits the body limit (1 MiB here); an oversized body → 413, nothing written', async () => {
    const full = await post(batch(Array.from({ length: AUDIT_LIMITS.eventsPerBatch }, ok)));
    expect(full.statusCode).toBe(200);
    snapshot = await state();
    const events = Array.from({ length: 900 }, () => ok());
    const big = batch(events.map((e) => ({ ...e, reason: 'r'.repeat(990), server: 's'.repeat(200) })));
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await state()).toBe(snapshot);
  });

  it('a non-JSON content type → 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/proxy/audit',
      headers: { ...bearer(gateway), 'content-type': 'text/plain' },
      payload: 'events',
    });
    expect(res.statusCode).toBe(415);
  });

  it.each([
    ['/v1/audit?limit=0', 'limit'],
    ['/v1/audit?limit=501', 'limit'],
    ['/v1/audit?cursor=eyJzZXEiOiJ4In0', 'cursor'],
    ['/v1/audit?cursor=not-base64-json', 'cursor'],
    ['/v1/audit?since=yesterday', 'since'],
    ['/v1/audit?until=2026-13-45', 'until'],
    ['/v1/audit?decision=maybe', 'decision'],
    ['/v1/audit?type=DROP%20TABLE', 'type'],
    ['/v1/audit?trace_id=xyz', 'trace_id'],
    ['/v1/audit?tenant_id=other', 'tenant_id'],
    ['/v1/audit/export?from_seq=abc', 'from_seq'],
    ['/v1/audit/export?from_seq=0', 'from_seq'],
    ['/v1/audit/export?from_seq=9&to_seq=3', 'from_seq'],
    ['/v1/audit/export?from_seq=1000000', 'from_seq'],
    ['/v1/audit/export?to_seq=99999999999999999999', 'to_seq'],
  ])('GET %s → 400 naming %s', async (url, field) => {
    const res = await t.app.inject({ method: 'GET', url, headers: bearer(analyst) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain(field);
  });
});
