import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent, push } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

/**
 * Issue 10, finding 4 (control-plane side): event ids could be squatted. An analyst read a gateway's ids, pushed
 * events with the next ones, and the gateway's later denials were dropped as conflicts. Ids are now unique per
 * writer (the key that pushed them), and human roles do not write runtime events at all.
 */
const REAL = auditEvent({ event_id: 'gw-0000abcd-7', type: 'tool_call.denied', reason: 'real denial' });

describe('audit ingest: event ids are scoped by writer; humans do not write runtime events', () => {
  let t: TestApp;
  let tenant: string;
  let gateway: string;
  let proxy: string;
  let analyst: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    gateway = (await createKey(t.app, tenant, 'gateway', { name: 'edge' })).raw;
    proxy = (await createKey(t.app, tenant, 'proxy', { name: 'squatter' })).raw;
    analyst = (await createKey(t.app, tenant, 'analyst')).raw;
    admin = (await createKey(t.app, tenant, 'admin')).raw;
  });
  afterAll(() => t.close());

  it('reproduction: another writer pushing the next ids first does not swallow the gateway events', async () => {
    const squatted = Array.from({ length: 20 }, (_, i) =>
      auditEvent({ event_id: `gw-0000abcd-${i + 1}`, type: 'tool_call.allowed', reason: 'squatted' }),
    );
    expect((await push(t, proxy, squatted)).json()).toMatchObject({ accepted: 20, conflicts: 0 });
    const real = REAL;
    const res = await push(t, gateway, [real]);
    expect(res.json()).toMatchObject({ accepted: 1, conflicts: 0, conflict_event_ids: [] });
    const rows = await t.db.dataSource.query(
      `SELECT event->>'reason' AS reason, event->'actor'->>'subject' AS subject FROM audit_entries
        WHERE tenant_id = $1 AND event_id = 'gw-0000abcd-7' ORDER BY seq`,
      [tenant],
    );
    expect(rows).toEqual([
      { reason: 'squatted', subject: 'key:squatter' },
      { reason: 'real denial', subject: 'key:edge' },
    ]);
  });

  it('the same writer re-using an id with other content is an explicit conflict, and nothing is stored', async () => {
    const res = await push(t, gateway, [
      auditEvent({ event_id: 'gw-0000abcd-7', type: 'tool_call.allowed', reason: 'rewritten' }),
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 0, conflicts: 1, conflict_event_ids: ['gw-0000abcd-7'] });
    const again = await push(t, gateway, [REAL]);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it.each([
    ['analyst', () => analyst],
    ['admin', () => admin],
  ])('wrong-role: %s may not write runtime events', async (_role, key) => {
    const res = await push(t, key(), [auditEvent({ event_id: 'human-1' })]);
    expect(res.statusCode).toBe(403);
    const read = await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(key()) });
    expect(read.statusCode).toBe(200);
  });
});
