import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditTrendsView, Role, RuntimeEventType } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent, push } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

const DAY = 86_400_000;
/** `YYYY-MM-DD` of the UTC day `n` days before today. */
const dayAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);
const midnight = (n: number) => Date.parse(dayAgo(n));

/**
 * `GET /v1/audit/trends`: runtime decisions per UTC day and open findings per day, from one statement. Events are
 * pushed through the real ingest with timestamps either side of midnight; findings history (first seen, resolved)
 * cannot be back-dated through the API, so those rows are inserted as the scans fold would have left them.
 */
describe('audit trends: runtime decisions and open findings per UTC day', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  const keys = new Map<string, string>();
  const event = (type: RuntimeEventType, at: number) =>
    auditEvent({ type, timestamp: new Date(at).toISOString(), agent: 'agent-of-a' });
  const get = (url: string, key: string) => t.app.inject({ method: 'GET', url, headers: bearer(key) });
  const finding = (tenant: string, n: number, firstSeen: number, resolvedAt: number | null) =>
    t.db.dataSource.query(
      `INSERT INTO findings (tenant_id, source_id, id, kind, severity, severity_rank, title, subject, first_seen,
                             last_seen, resolved_at, first_scan_id, last_scan_id)
       VALUES ($1, 'laptop-1', $2, 'vulnerability', 'high', 3, 'a finding', 'pkg@1', $3, $3, $4, $5, $5)`,
      [
        tenant,
        `f_${n.toString(16).padStart(24, '0')}`,
        new Date(firstSeen),
        resolvedAt === null ? null : new Date(resolvedAt),
        randomUUID(),
      ],
    );

  beforeAll(async () => {
    t = await startTestApp();
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[])
      keys.set(role, (await createKey(t.app, a, role)).raw);
    keys.set('b-analyst', (await createKey(t.app, b, 'analyst')).raw);
    const pushed = await push(t, keys.get('proxy')!, [
      // The last millisecond of yesterday and the first of today fall on either side of the boundary.
      event('tool_call.allowed', midnight(0) - 1),
      event('tool_call.denied', midnight(0)),
      event('tool_call.denied', midnight(0) + 1),
      event('tool_call.warned', midnight(0) + 2),
      event('rate_limit.exceeded', midnight(5) + 12 * 3_600_000),
      event('response.redacted', midnight(5) + 12 * 3_600_000),
      // Outside a 7-day window: counted only when 30 days are asked for.
      event('tool_call.allowed', midnight(10)),
    ]);
    expect(pushed.json()).toMatchObject({ accepted: 7 });
    // Open since 3 days ago; open 3 days ago and resolved during yesterday; first seen today.
    await finding(a, 1, midnight(3) + 1000, null);
    await finding(a, 2, midnight(3) + 1000, midnight(1) + 3_600_000);
    await finding(a, 3, midnight(0) + 1000, null);
  });
  afterAll(() => t.close());

  it('answers one row per day, oldest first, zeros on empty days, counts split at UTC midnight', async () => {
    const res = await get('/v1/audit/trends?days=7', keys.get('analyst')!);
    expect(res.statusCode).toBe(200);
    const body = res.json() as AuditTrendsView;
    expect(body).toMatchObject({ days: 7, from: dayAgo(6), to: dayAgo(0) });
    expect(body.series.map((d) => d.day)).toEqual([6, 5, 4, 3, 2, 1, 0].map(dayAgo));
    const zero = { allow: 0, deny: 0, warn: 0, redact: 0, block: 0 };
    const at = (n: number) => body.series.find((d) => d.day === dayAgo(n))!;
    expect(at(0)).toEqual({
      day: dayAgo(0),
      decisions: { ...zero, deny: 2, warn: 1 },
      total: 3,
      open_findings: 2,
    });
    expect(at(1)).toEqual({ day: dayAgo(1), decisions: { ...zero, allow: 1 }, total: 1, open_findings: 1 });
    expect(at(2)).toEqual({ day: dayAgo(2), decisions: zero, total: 0, open_findings: 2 });
    expect(at(3)).toEqual({ day: dayAgo(3), decisions: zero, total: 0, open_findings: 2 });
    expect(at(4)).toEqual({ day: dayAgo(4), decisions: zero, total: 0, open_findings: 0 });
    expect(at(5)).toEqual({
      day: dayAgo(5),
      decisions: { ...zero, deny: 1, redact: 1 },
      total: 2,
      open_findings: 0,
    });
    expect(at(6)).toEqual({ day: dayAgo(6), decisions: zero, total: 0, open_findings: 0 });
  });

  it('defaults to 30 days and counts control-plane events not at all', async () => {
    const body = (await get('/v1/audit/trends', keys.get('admin')!)).json() as AuditTrendsView;
    expect(body.days).toBe(30);
    expect(body.series).toHaveLength(30);
    expect(body.series[0].day).toBe(dayAgo(29));
    expect(body.series.find((d) => d.day === dayAgo(10))!.decisions.allow).toBe(1);
    // Creating keys and tenants wrote control-plane entries today; only the seven runtime decisions count.
    expect(body.series.reduce((sum, d) => sum + d.total, 0)).toBe(7);
    const one = (await get('/v1/audit/trends?days=1', keys.get('admin')!)).json() as AuditTrendsView;
    expect(one.series).toEqual([expect.objectContaining({ day: dayAgo(0), total: 3 })]);
  });

  it.each(['0', '91', '-1', '1.5', 'abc', '', '30&days=40'])('days=%s is a 400 naming days', async (days) => {
    const res = await get(`/v1/audit/trends?days=${days}`, keys.get('analyst')!);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('days must be a whole number from 1 to 90');
  });

  it("another tenant sees only its own empty days, even when it names A's tenant", async () => {
    const res = await get(`/v1/audit/trends?days=30&tenant_id=${a}`, keys.get('b-analyst')!);
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('agent-of-a');
    const body = (await get('/v1/audit/trends?days=30', keys.get('b-analyst')!)).json() as AuditTrendsView;
    expect(body.series).toHaveLength(30);
    expect(body.series.every((d) => d.total === 0 && d.open_findings === 0)).toBe(true);
  });

  it.each(['viewer', 'fleet-push', 'proxy', 'gateway'])('%s has no audit:read: 403', async (role) => {
    const res = await get('/v1/audit/trends', keys.get(role)!);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });
});
