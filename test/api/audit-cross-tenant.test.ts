import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent, push, verifyChain } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe("audit cross-tenant: another tenant's ledger does not exist for you", () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let proxyA: string;
  let proxyB: string;
  let analystA: string;
  let analystB: string;
  const eventsOfA = Array.from({ length: 5 }, () => auditEvent({ agent: 'agent-of-a' }));
  beforeAll(async () => {
    t = await startTestApp();
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    proxyA = (await createKey(t.app, a, 'proxy')).raw;
    proxyB = (await createKey(t.app, b, 'proxy')).raw;
    analystA = (await createKey(t.app, a, 'analyst')).raw;
    analystB = (await createKey(t.app, b, 'analyst')).raw;
    expect((await push(t, proxyA, eventsOfA)).json().accepted).toBe(5);
  });
  afterAll(() => t.close());

  const get = (url: string, key: string) => t.app.inject({ method: 'GET', url, headers: bearer(key) });

  it("B's listing, filters and cursors never show A's events", async () => {
    const all = await get('/v1/audit?limit=500', analystB);
    expect(all.json().items.every((i: { tenant_id: string }) => i.tenant_id === b)).toBe(true);
    expect(all.body).not.toContain('agent-of-a');
    expect((await get('/v1/audit?agent=agent-of-a', analystB)).json().items).toEqual([]);
    expect((await get(`/v1/audit?trace_id=${eventsOfA[0].trace_id}`, analystB)).json().items).toEqual([]);
    const pageOfA = await get('/v1/audit?limit=1', analystA);
    const withCursorOfA = await get(`/v1/audit?cursor=${pageOfA.json().next_cursor}`, analystB);
    expect(withCursorOfA.body).not.toContain('agent-of-a');
  });

  it("B's verify and export cover B's chain only, even when asked for A's", async () => {
    const headA = (await verifyChain(t, analystA)).head!;
    const verifyB = await get(`/v1/audit/verify?tenant_id=${a}`, analystB);
    expect(verifyB.json()).toMatchObject({ ok: true, tenant_id: b });
    expect(verifyB.json().head.hash).not.toBe(headA.hash);
    const exportB = await get('/v1/audit/export', analystB);
    expect(exportB.statusCode).toBe(200);
    expect(exportB.body).not.toContain('agent-of-a');
    expect(exportB.body).not.toContain(`"tenant_id":"${a}"`);
  });

  it("B re-sending A's event ids does not collide: B stores its own, A's are untouched", async () => {
    const before = await verifyChain(t, analystA);
    const res = await push(t, proxyB, eventsOfA);
    expect(res.json()).toMatchObject({ accepted: 5, duplicates: 0, conflicts: 0 });
    const rows = await t.db.dataSource.query(
      'SELECT tenant_id, count(*)::int AS n FROM audit_entries WHERE event_id = $1 GROUP BY tenant_id ORDER BY tenant_id',
      [eventsOfA[0].event_id],
    );
    expect(rows).toEqual([a, b].sort().map((tenant_id) => ({ tenant_id, n: 1 })));
    const after = await verifyChain(t, analystA);
    expect(after).toMatchObject({ ok: true, verified_to: before.verified_to, head: before.head });
    const stored = await t.db.dataSource.query(
      `SELECT event->'actor'->>'tenant_id' AS actor_tenant FROM audit_entries WHERE tenant_id = $1 AND event_id = $2`,
      [b, eventsOfA[0].event_id],
    );
    expect(stored).toEqual([{ actor_tenant: b }]);
  });

  it('a tenant named in the body is refused, not obeyed', async () => {
    const res = await push(t, proxyB, [auditEvent()], { tenant_id: a });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('tenant_id');
  });
});
