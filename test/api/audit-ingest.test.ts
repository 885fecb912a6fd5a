import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditWriter } from '../../src/modules/audit/audit-writer.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  auditCount,
  auditEvent,
  checkpointNow,
  push,
  verifyChain,
  verifyExportWithCli,
} from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe('audit ingest: durable, idempotent, chained', () => {
  let t: TestApp;
  let tenant: string;
  let proxy: string;
  let analyst: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '50' } });
    tenant = await createTenant(t.app);
    proxy = (await createKey(t.app, tenant, 'proxy', { name: 'laptop-proxy' })).raw;
    analyst = (await createKey(t.app, tenant, 'analyst')).raw;
  });
  afterAll(() => t.close());

  const list = async (query = '') => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/audit${query}`, headers: bearer(analyst) });
    expect(res.statusCode).toBe(200);
    return res.json() as {
      items: Array<{ seq: number; event: Record<string, unknown> }>;
      next_cursor: string | null;
    };
  };

  it('stores every event of a batch before answering, in one contiguous run of the chain', async () => {
    const before = await auditCount(t, tenant);
    const events = Array.from({ length: 100 }, (_, i) => auditEvent({ event_id: `batch1-${i}` }));
    const res = await push(t, proxy, events, { session_id: 'sess-1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 100, duplicates: 0, conflicts: 0, redacted: 0 });
    expect(body.last_seq - body.first_seq).toBe(99);
    expect(await auditCount(t, tenant)).toBe(before + 100);
    const [stored] = await t.db.dataSource.query(
      `SELECT event FROM audit_entries WHERE tenant_id = $1 AND event_id = 'batch1-7'`,
      [tenant],
    );
    expect(stored.event).toMatchObject({
      event_id: 'batch1-7',
      type: 'tool_call.denied',
      decision: 'deny',
      origin: 'runtime',
      source_id: 'laptop-1:proxy',
      session_id: 'sess-1',
      actor: { subject: 'key:laptop-proxy', role: 'proxy', method: 'api_key', tenant_id: tenant },
    });
  });

  it('re-sending a batch is a no-op reported as duplicates; a re-used id with other content is a conflict', async () => {
    const events = Array.from({ length: 5 }, (_, i) => auditEvent({ event_id: `idem-${i}` }));
    expect((await push(t, proxy, events)).json().accepted).toBe(5);
    const count = await auditCount(t, tenant);

    const again = await push(t, proxy, events);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 5, first_seq: null, last_seq: null });
    expect(again.json().duplicate_event_ids).toEqual(events.map((e) => e.event_id));

    const mixed = await push(t, proxy, [
      events[0],
      auditEvent({ event_id: 'idem-new' }),
      { ...events[1], tool: 'rm' },
    ]);
    expect(mixed.json()).toMatchObject({
      accepted: 1,
      duplicates: 1,
      conflicts: 1,
      duplicate_event_ids: ['idem-0'],
      conflict_event_ids: ['idem-1'],
    });
    expect(await auditCount(t, tenant)).toBe(count + 1);
    const [kept] = await t.db.dataSource.query(
      `SELECT event->>'tool' AS tool FROM audit_entries WHERE tenant_id = $1 AND event_id = 'idem-1'`,
      [tenant],
    );
    expect(kept.tool).toBe('write_file'); // the first one stands
  });

  it('the same id twice in one batch is stored once', async () => {
    const event = auditEvent();
    const res = await push(t, proxy, [event, event]);
    expect(res.json()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('redacts a secret-looking value in free text instead of storing it, and says so', async () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const res = await push(t, proxy, [
      auditEvent({
        event_id: 'leaky',
        reason: `argument held ${secret}`,
        tool: `fetch password=${'x'.repeat(12)}`,
      }),
    ]);
    expect(res.json()).toMatchObject({ accepted: 1, redacted: 1 });
    const dump = JSON.stringify(await t.db.dataSource.query('SELECT * FROM audit_entries'));
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain('x'.repeat(12));
    const item = (await list('?type=tool_call.denied&limit=500')).items.find(
      (i) => i.event.event_id === 'leaky',
    )!;
    expect(item.event).toMatchObject({
      reason: 'argument held [redacted:aws_access_key_id]',
      redactions: ['tool', 'reason'],
    });
  });

  it('every event type of the contract is accepted, with the decision it implies', async () => {
    const types = [
      ['tool_call.allowed', 'allow'],
      ['tool_call.warned', 'warn'],
      ['response.redacted', 'redact'],
      ['response.blocked', 'block'],
      ['replay.refused', 'deny'],
      ['tool.drift', undefined],
      ['policy.loaded', undefined],
      ['detector.hit', undefined],
      ['rate_limit.exceeded', 'deny'],
    ] as const;
    const events = types.map(([type]) =>
      auditEvent({
        type,
        detectors: ['aws_access_key_id'],
        policy_version: 'v7',
        tool_fingerprint: `sha256:${'cd'.repeat(32)}`,
        previous_tool_fingerprint: `sha256:${'ef'.repeat(32)}`,
        count: 3,
        span_id: '00f067aa0ba902b7',
        request_id: '42',
        method: 'tools/call',
      }),
    );
    expect((await push(t, proxy, events)).json().accepted).toBe(types.length);
    for (const [type, decision] of types) {
      const { items } = await list(`?type=${type}`);
      expect({ type, decision: items[0].event.decision }).toEqual({ type, decision });
    }
  });

  it('filters by type, agent, tool, decision, trace id, origin and time, newest first', async () => {
    const trace = 'fe'.repeat(16);
    await push(t, proxy, [
      auditEvent({
        type: 'tool_call.allowed',
        agent: 'cursor',
        tool: 'search',
        trace_id: trace,
        timestamp: '2025-06-01T10:00:00Z',
      }),
      auditEvent({
        type: 'tool_call.denied',
        agent: 'cursor',
        tool: 'exec',
        trace_id: trace,
        timestamp: '2025-06-01T10:00:01Z',
      }),
      auditEvent({
        type: 'tool_call.allowed',
        agent: 'zed',
        tool: 'search',
        timestamp: '2025-06-02T10:00:00+02:00',
      }),
    ]);
    const seqs = (r: { items: Array<{ seq: number }> }) => r.items.map((i) => i.seq);
    const byTrace = await list(`?trace_id=${trace}`);
    expect(byTrace.items.map((i) => i.event.tool)).toEqual(['exec', 'search']);
    expect(seqs(byTrace)[0]).toBeGreaterThan(seqs(byTrace)[1]);
    expect((await list('?agent=cursor&decision=allow')).items.map((i) => i.event.tool)).toEqual(['search']);
    expect((await list('?tool=exec')).items).toHaveLength(1);
    expect((await list('?agent=zed&since=2025-06-02')).items).toHaveLength(1);
    expect((await list('?agent=zed&since=2025-06-02T08:00:01Z')).items).toHaveLength(0); // 10:00+02:00 = 08:00Z
    expect(
      (await list('?agent=cursor&since=2025-06-01T10:00:00Z&until=2025-06-01T10:00:01Z')).items,
    ).toHaveLength(1);
    const control = await list('?origin=control_plane');
    expect(control.items.map((i) => i.event.type)).toEqual(
      expect.arrayContaining(['tenant.created', 'api_key.created']),
    );
    expect(control.items.every((i) => i.event.origin === 'control_plane')).toBe(true);
  });

  it('pages with a keyset cursor: no entry twice, none skipped', async () => {
    const total = (await verifyChain(t, analyst)).verified_to!;
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`?limit=37${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((i) => i.seq));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => total - i));
  });

  it('concurrent batches into one tenant: no fork, no gap, nothing lost', async () => {
    const before = await verifyChain(t, analyst);
    const batches = Array.from({ length: 24 }, (_, b) =>
      Array.from({ length: 1 + (b % 7) }, (_, i) => auditEvent({ event_id: `conc-${b}-${i}` })),
    );
    const results = await Promise.all(batches.map((events) => push(t, proxy, events)));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    const sent = batches.flat().length;
    const after = await verifyChain(t, analyst);
    expect(after).toMatchObject({ ok: true, verified_from: 1, verified_to: before.verified_to! + sent });
    const runs = results.map((r) => [r.json().first_seq, r.json().last_seq]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < runs.length; i++) expect(runs[i][0]).toBe(runs[i - 1][1] + 1);
  });

  it('concurrent pushes of one tenant share commits (group commit), each caller keeping its own result', async () => {
    const writer = t.app.get(AuditWriter);
    const spy = jest.spyOn(writer, 'appendGroups');
    try {
      const shared = auditEvent({ event_id: 'shared-across-callers' });
      const batches = Array.from({ length: 30 }, (_, b) => [
        ...Array.from({ length: 3 }, (_, i) => auditEvent({ event_id: `grp-${b}-${i}` })),
        ...(b < 2 ? [shared] : []),
      ]);
      const results = (await Promise.all(batches.map((events) => push(t, proxy, events)))).map((r) =>
        r.json(),
      );
      const commits = spy.mock.calls.length;
      const largest = Math.max(...spy.mock.calls.map((call) => call[1].length));
      expect(commits).toBeLessThan(batches.length);
      expect(largest).toBeGreaterThan(1);
      expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(91);
      expect(results.filter((r) => r.duplicate_event_ids.includes('shared-across-callers'))).toHaveLength(1);
      for (const [b, r] of results.entries()) {
        expect(r.accepted + r.duplicates).toBe(batches[b].length);
        if (r.accepted) expect(r.last_seq - r.first_seq + 1).toBe(r.accepted);
      }
      expect(await verifyChain(t, analyst)).toMatchObject({ ok: true });
    } finally {
      spy.mockRestore();
    }
  });

  it('signs a checkpoint at least every N entries (here 50), and on demand for a quiet chain', async () => {
    const checkpoints = await t.db.dataSource.query(
      'SELECT seq::int FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq',
      [tenant],
    );
    const seqs = [0, ...checkpoints.map((c: { seq: number }) => c.seq)];
    for (let i = 1; i < seqs.length; i++) expect(seqs[i] - seqs[i - 1]).toBeLessThanOrEqual(50 + 99);
    await push(t, proxy, [auditEvent()]);
    expect(await checkpointNow(t)).toBeGreaterThanOrEqual(1);
    const report = await verifyChain(t, analyst);
    expect(report).toMatchObject({ ok: true, checkpointed_to: report.verified_to });
  });

  it('exports NDJSON that a third party verifies offline, and records the export itself', async () => {
    const { code, report, lines } = await verifyExportWithCli(t, analyst);
    expect(code).toBe(0);
    const header = JSON.parse(lines[0]);
    expect(header).toMatchObject({
      kind: 'header',
      format: 'agent-bom.audit.export/v1',
      tenant_id: tenant,
      from_seq: 1,
      partial: false,
    });
    expect(report).toMatchObject({
      ok: true,
      verified_from: 1,
      verified_to: header.to_seq,
      start: 'genesis',
    });
    const exportedRecord = JSON.parse(lines.at(-2)!);
    expect(exportedRecord).toMatchObject({
      kind: 'entry',
      seq: header.to_seq,
      event: { type: 'audit.exported', actor: { role: 'analyst' } },
    });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      kind: 'checkpoint',
      seq: header.to_seq,
      purpose: 'export',
    });
  });

  it('a partial export (from_seq/to_seq) verifies and says its start is not anchored', async () => {
    const { code, report, lines } = await verifyExportWithCli(t, analyst, '?from_seq=10&to_seq=40');
    expect(code).toBe(0);
    expect(JSON.parse(lines[0])).toMatchObject({ from_seq: 10, to_seq: 40, partial: true });
    expect(report).toMatchObject({ ok: true, verified_from: 10, verified_to: 40, start: 'unanchored' });
  });

  it('streams the export with the NDJSON content type and an attachment name', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/export?to_seq=3',
      headers: bearer(analyst),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="audit-${tenant}-1-3.ndjson"`);
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('publishes the verification key (public half only)', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/verification-key',
      headers: bearer(analyst),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ id: body.current_key_id, algorithm: 'Ed25519', current: true });
    expect(body.keys[0].public_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body).not.toContain('PRIVATE');
  });
});
