import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { entryHash } from '../../src/modules/audit/chain.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  auditEvent,
  checkpointNow,
  push,
  tamper,
  verifyChain,
  verifyExportWithCli,
} from '../helpers/audit.js';
import { bearer, createKey, createTenant, createUnauditedKey } from '../helpers/factories.js';
import { runCli } from '../helpers/processes.js';

/**
 * Tampering with the stored ledger, the way someone with database access would, is detected AND located both
 * by GET /v1/audit/verify and by `agent-bom audit verify` on an export.
 *
 * Each case gets its own tenant with the same chain: seq 1 tenant.created, 2 api_key.created, 3..12 pushed
 * events, a signed checkpoint at 12, then 13..15 pushed after it (not yet signed).
 */
describe('tampering: every change to the stored chain is detected and located', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '1000000' } });
  });
  afterAll(() => t.close());

  async function tenantWithChain(): Promise<{ tenant: string; key: string }> {
    const tenant = await createTenant(t.app);
    const key = (await createKey(t.app, tenant, 'analyst')).raw;
    const writer = await createUnauditedKey(t.app, tenant, 'proxy');
    expect(
      (
        await push(
          t,
          writer,
          Array.from({ length: 10 }, () => auditEvent()),
        )
      ).json().last_seq,
    ).toBe(12);
    await checkpointNow(t);
    expect(
      (
        await push(
          t,
          writer,
          Array.from({ length: 3 }, () => auditEvent()),
        )
      ).json().last_seq,
    ).toBe(15);
    const before = await verifyChain(t, key);
    expect(before).toMatchObject({ ok: true, verified_to: 15, checkpointed_to: 12 });
    return { tenant, key };
  }

  const rowOf = async (tenant: string, seq: number) =>
    (
      await t.db.dataSource.query('SELECT * FROM audit_entries WHERE tenant_id = $1 AND seq = $2', [
        tenant,
        seq,
      ])
    )[0];

  it('an intact chain verifies on the server and offline (control)', async () => {
    const { key } = await tenantWithChain();
    const offline = await verifyExportWithCli(t, key);
    expect(offline.code).toBe(0);
    expect(offline.report).toMatchObject({ ok: true, verified_from: 1, verified_to: 16, start: 'genesis' });
    expect(JSON.parse(offline.lines.at(-1)!)).toMatchObject({
      kind: 'checkpoint',
      seq: 16,
      purpose: 'export',
    });
  });

  it('the database itself refuses UPDATE, DELETE and TRUNCATE of the ledger without the guard turned off', async () => {
    const { tenant } = await tenantWithChain();
    for (const sql of [
      `UPDATE audit_entries SET hash = hash WHERE tenant_id = $1`,
      `DELETE FROM audit_entries WHERE tenant_id = $1`,
      `DELETE FROM audit_checkpoints WHERE tenant_id = $1`,
    ]) {
      await expect(t.db.dataSource.query(sql, [tenant])).rejects.toThrow(/append-only/);
    }
    await expect(t.db.dataSource.query('TRUNCATE audit_entries')).rejects.toThrow(/append-only/);
  });

  it("an updated row's payload: hash_mismatch at that seq", async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [
      [
        `UPDATE audit_entries SET event = jsonb_set(event, '{tool}', '"read_file"') WHERE tenant_id = $1 AND seq = 7`,
        [tenant],
      ],
    ]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 7, reason: 'hash_mismatch' });
    const offline = await verifyExportWithCli(t, key);
    expect(offline.code).toBe(1);
    expect(offline.report.first_broken).toMatchObject({ seq: 7, reason: 'hash_mismatch', line: 8 });
    expect(offline.report.verified_to).toBe(6);
    // The server did not sign the export: it ends with its own finding instead of a checkpoint.
    expect(JSON.parse(offline.lines.at(-1)!)).toMatchObject({
      kind: 'end',
      ok: false,
      first_broken: { seq: 7 },
    });
  });

  it('an updated payload with its hash recomputed: the next link breaks', async () => {
    const { tenant, key } = await tenantWithChain();
    const row = await rowOf(tenant, 7);
    const forged = { ...row.event, decision: 'allow', type: 'tool_call.allowed' };
    await tamper(t, [
      [
        'UPDATE audit_entries SET event = $3, hash = $4 WHERE tenant_id = $1 AND seq = $2',
        [tenant, 7, forged, entryHash(tenant, 7, row.prev_hash, forged)],
      ],
    ]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 8, reason: 'link_broken' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([1, { seq: 8, reason: 'link_broken' }]);
  });

  it('a deleted middle row: seq_gap at that seq', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq = 7', [tenant]]]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 7, reason: 'seq_gap' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([1, { seq: 7, reason: 'seq_gap' }]);
  });

  it('the newest rows deleted: caught by the checkpoint and the head, located at the first missing seq', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 10', [tenant]]]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 10, reason: 'missing_tail' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([1, { seq: 10, reason: 'seq_gap' }]);
  });

  it('the newest rows deleted and the head row rolled back to match: the signed checkpoint still catches it', async () => {
    const { tenant, key } = await tenantWithChain();
    const row9 = await rowOf(tenant, 9);
    await tamper(t, [
      ['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq >= 10', [tenant]],
      ['UPDATE audit_heads SET seq = 9, hash = $2 WHERE tenant_id = $1', [tenant, row9.hash]],
    ]);
    const report = await verifyChain(t, key);
    expect(report.first_broken).toMatchObject({ seq: 10, reason: 'missing_tail' });
    expect(report.first_broken?.detail).toContain('checkpoint');
    // The export's own record now occupies seq 10 and links to 9; entries 11..12 that the checkpoint covers are
    // still provably missing.
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([
      1,
      { seq: 11, reason: 'missing_tail' },
    ]);
  });

  it('reordered rows (two seqs swapped): hash_mismatch at the first', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [
      ['UPDATE audit_entries SET seq = 1000000 WHERE tenant_id = $1 AND seq = 6', [tenant]],
      ['UPDATE audit_entries SET seq = 6 WHERE tenant_id = $1 AND seq = 7', [tenant]],
      ['UPDATE audit_entries SET seq = 7 WHERE tenant_id = $1 AND seq = 1000000', [tenant]],
    ]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 6, reason: 'hash_mismatch' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([
      1,
      { seq: 6, reason: 'hash_mismatch' },
    ]);
  });

  it('a wiped tenant (every entry deleted): caught by the checkpoint, located at seq 1', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [['DELETE FROM audit_entries WHERE tenant_id = $1', [tenant]]]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 1, reason: 'missing_head' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([
      1,
      { seq: 1, reason: 'missing_head' },
    ]);
  });

  it('the oldest rows deleted (no retention anchor): missing_head at seq 1', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq <= 4', [tenant]]]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({ seq: 1, reason: 'missing_head' });
    const offline = await verifyExportWithCli(t, key);
    expect([offline.code, offline.report.first_broken]).toMatchObject([
      1,
      { seq: 1, reason: 'missing_head' },
    ]);
  });

  it('a forged checkpoint (re-signed hash without the key) is refused', async () => {
    const { tenant, key } = await tenantWithChain();
    await tamper(t, [
      ["UPDATE audit_checkpoints SET hash = repeat('f', 64) WHERE tenant_id = $1 AND seq = 12", [tenant]],
    ]);
    expect((await verifyChain(t, key)).first_broken).toMatchObject({
      seq: 12,
      reason: 'checkpoint_signature_invalid',
    });
  });

  it('an edited export file is caught offline too (the file, not the database, is tampered)', async () => {
    const { key } = await tenantWithChain();
    const offline = await verifyExportWithCli(t, key);
    expect(offline.code).toBe(0);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-edit-'));
    try {
      const lines = [...offline.lines];
      const entry = JSON.parse(lines[5]);
      entry.event.reason = 'nothing to see here';
      lines[5] = JSON.stringify(entry);
      const keys = await t.app.inject({
        method: 'GET',
        url: '/v1/audit/verification-key',
        headers: bearer(key),
      });
      await fs.writeFile(path.join(dir, 'key.json'), keys.body);
      await fs.writeFile(path.join(dir, 'edited.ndjson'), lines.join('\n') + '\n');
      const truncated = offline.lines.slice(0, -1).join('\n') + '\n';
      await fs.writeFile(path.join(dir, 'truncated.ndjson'), truncated);
      const edited = await runCli(
        ['audit', 'verify', path.join(dir, 'edited.ndjson'), '--key', path.join(dir, 'key.json')],
        process.env,
      );
      expect(edited.code).toBe(1);
      expect(edited.stdout).toContain(`BROKEN at seq ${entry.seq} (line 6): hash_mismatch`);
      const cut = await runCli(
        ['audit', 'verify', path.join(dir, 'truncated.ndjson'), '--key', path.join(dir, 'key.json')],
        process.env,
      );
      expect(cut.code).toBe(1);
      expect(cut.stdout).toContain('unsigned_tail');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
