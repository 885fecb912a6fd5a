import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditRetentionService } from '../../src/modules/audit/audit-retention.service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  auditCount,
  auditEvent,
  checkpointNow,
  push,
  tamper,
  verifyChain,
  verifyExportWithCli,
} from '../helpers/audit.js';
import { bearer, createKey, createTenant, createUnauditedKey } from '../helpers/factories.js';

const DAY = 86400;

describe('retention: old entries go, verification of what remains never breaks', () => {
  let t: TestApp;
  let retention: AuditRetentionService;
  beforeAll(async () => {
    t = await startTestApp({
      env: { AGENT_BOM_AUDIT_RETENTION_DAYS: '30', AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '1000000' },
    });
    retention = t.app.get(AuditRetentionService);
  });
  afterAll(() => t.close());

  /** A chain of 2 + 20 entries, a checkpoint at 22, then 5 more (23..27). */
  async function chain() {
    const tenant = await createTenant(t.app);
    const key = (await createKey(t.app, tenant, 'analyst')).raw;
    const writer = await createUnauditedKey(t.app, tenant, 'proxy');
    await push(
      t,
      writer,
      Array.from({ length: 20 }, () => auditEvent()),
    );
    await checkpointNow(t);
    await push(
      t,
      writer,
      Array.from({ length: 5 }, () => auditEvent()),
    );
    return { tenant, key, writer };
  }
  const in31Days = () => new Date(Date.now() + 31 * DAY * 1000);

  it('reads the configured retention', () => {
    expect(retention.retentionDays).toBe(30);
  });

  it('keeps everything while nothing is older than the retention', async () => {
    const { tenant } = await chain();
    const [result] = await retention.prune({
      olderThanSeconds: 30 * DAY,
      subject: 'system:retention',
      tenantId: tenant,
    });
    expect(result).toEqual({ tenant_id: tenant, pruned: 0, anchor_seq: null });
    expect(await auditCount(t, tenant)).toBe(27);
  });

  it('cuts at the last checkpoint signed before the cutoff, anchors there, records the prune, and still verifies', async () => {
    const { tenant, key } = await chain();
    const [result] = await retention.prune({
      olderThanSeconds: 30 * DAY,
      subject: 'system:retention',
      tenantId: tenant,
      now: in31Days(),
    });
    expect(result).toEqual({ tenant_id: tenant, pruned: 22, anchor_seq: 22 });
    const rows = await t.db.dataSource.query(
      'SELECT min(seq)::int AS first, max(seq)::int AS last FROM audit_entries WHERE tenant_id = $1',
      [tenant],
    );
    expect(rows).toEqual([{ first: 23, last: 28 }]);
    const anchor = await t.db.dataSource.query(
      'SELECT seq::int, purpose FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq',
      [tenant],
    );
    expect(anchor).toEqual([{ seq: 22, purpose: 'anchor' }]);
    const pruned = await t.app.inject({
      method: 'GET',
      url: '/v1/audit?type=audit.pruned',
      headers: bearer(key),
    });
    expect(pruned.json().items[0]).toMatchObject({
      seq: 28,
      event: { actor: { subject: 'system:retention' }, details: { through_seq: 22, entries_removed: 22 } },
    });

    expect(await verifyChain(t, key)).toMatchObject({
      ok: true,
      start: 'anchor',
      verified_from: 23,
      verified_to: 28,
      checkpointed_to: 22,
    });
    const offline = await verifyExportWithCli(t, key);
    expect(offline.code).toBe(0);
    expect(offline.report).toMatchObject({ ok: true, start: 'anchor', verified_from: 23 });
    expect(JSON.parse(offline.lines[0])).toMatchObject({ from_seq: 23, partial: false });
    expect(JSON.parse(offline.lines[1])).toMatchObject({ kind: 'checkpoint', seq: 22, purpose: 'anchor' });
  });

  it('pruning again finds nothing new to cut; new writes continue the chain after the anchor', async () => {
    const { tenant, key, writer } = await chain();
    const options = {
      olderThanSeconds: 30 * DAY,
      subject: 'system:retention',
      tenantId: tenant,
      now: in31Days(),
    };
    expect((await retention.prune(options))[0].pruned).toBe(22);
    expect((await retention.prune(options))[0].pruned).toBe(0);
    await push(t, writer, [auditEvent()]);
    expect(await verifyChain(t, key)).toMatchObject({ ok: true, verified_from: 23, verified_to: 29 });
  });

  it('refuses to prune a chain that does not verify up to the cut: the evidence is kept', async () => {
    const { tenant, key } = await chain();
    await tamper(t, [
      [
        `UPDATE audit_entries SET event = jsonb_set(event, '{tool}', '"x"') WHERE tenant_id = $1 AND seq = 9`,
        [tenant],
      ],
    ]);
    const [result] = await retention.prune({
      olderThanSeconds: 30 * DAY,
      subject: 'system:retention',
      tenantId: tenant,
      now: in31Days(),
    });
    expect(result).toMatchObject({ pruned: 0, refused: { seq: 9, reason: 'hash_mismatch' } });
    expect(await auditCount(t, tenant)).toBe(27);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 9 });
  });

  it('across all tenants at once, each on its own chain', async () => {
    const first = await chain();
    const second = await chain();
    const results = await retention.prune({
      olderThanSeconds: 30 * DAY,
      subject: 'system:retention',
      now: in31Days(),
    });
    // Building the second chain signed every head, the first tenant's tail (27) included: its cut is later.
    for (const [{ tenant, key }, cut] of [
      [first, 27],
      [second, 22],
    ] as const) {
      expect(results.find((r) => r.tenant_id === tenant)).toMatchObject({ anchor_seq: cut, pruned: cut });
      expect(await verifyChain(t, key)).toMatchObject({ ok: true, start: 'anchor', verified_from: cut + 1 });
    }
  });
});
