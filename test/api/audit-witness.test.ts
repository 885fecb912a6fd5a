import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/core/config/config.js';
import { AuditWitness } from '../../src/modules/audit/audit-witness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  auditEvent,
  checkpointNow,
  push,
  tamper,
  verifyChain,
  verifyExportWithCli,
} from '../helpers/audit.js';
import { createKey, createTenant, createUnauditedKey } from '../helpers/factories.js';

/**
 * Issue 10, finding 5: a chain cannot prove its own length. With database owner rights, cutting the chain back to
 * an earlier checkpoint (entries, later checkpoints and the head) passed /v1/audit/verify. A witness outside the
 * database (signed checkpoints delivered to a file and/or an HTTP endpoint) catches it.
 */
describe('audit witness: signed checkpoints outside the database', () => {
  let root: string;
  let received: Array<{
    auth: string | undefined;
    body: { checkpoints: Array<{ tenant_id: string; seq: number }> };
  }>;
  let failNext = 0;
  let sinkServer: http.Server;
  let sinkUrl: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-witness-'));
    received = [];
    sinkServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sinkServer.listen(0, '127.0.0.1', resolve));
    sinkUrl = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}/witness`;
  });
  afterAll(async () => {
    await new Promise((resolve) => sinkServer.close(resolve));
    await fs.rm(root, { recursive: true, force: true });
  });

  /** 2 + 10 entries with a checkpoint at 12, then 10 more with a checkpoint at 22. */
  async function chainWithTwoCheckpoints(t: TestApp) {
    const tenant = await createTenant(t.app);
    const reader = (await createKey(t.app, tenant, 'analyst')).raw;
    const writer = await createUnauditedKey(t.app, tenant, 'proxy');
    await push(
      t,
      writer,
      Array.from({ length: 10 }, () => auditEvent()),
    );
    await checkpointNow(t);
    await push(
      t,
      writer,
      Array.from({ length: 10 }, () => auditEvent()),
    );
    await checkpointNow(t);
    return { tenant, reader };
  }

  /** The attack: back to the checkpoint at 12, with the head moved back and the later checkpoint gone. */
  async function cutBackTo12(t: TestApp, tenant: string) {
    const [row] = await t.db.dataSource.query(
      `SELECT hash FROM audit_entries WHERE tenant_id = $1 AND seq = 12`,
      [tenant],
    );
    await tamper(t, [
      ['DELETE FROM audit_entries WHERE tenant_id = $1 AND seq > 12', [tenant]],
      ['DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND seq > 12', [tenant]],
      [
        'UPDATE audit_heads SET seq = 12, hash = $2, checkpointed_seq = 12 WHERE tenant_id = $1',
        [tenant, row.hash],
      ],
    ]);
  }

  it('reproduction: without a witness, the truncated chain verifies (what the chain alone cannot see)', async () => {
    const t = await startTestApp();
    try {
      const { tenant, reader } = await chainWithTwoCheckpoints(t);
      expect(await verifyChain(t, reader)).toMatchObject({ ok: true, verified_to: 22 });
      await cutBackTo12(t, tenant);
      const report = await verifyChain(t, reader);
      expect(report).toMatchObject({ ok: true, verified_to: 12 });
      expect(report).not.toHaveProperty('witness');
    } finally {
      await t.close();
    }
  });

  it('with a witness file and an HTTP sink, the same cut is detected and located', async () => {
    const file = path.join(root, 'witness.jsonl');
    const t = await startTestApp({
      env: {
        AGENT_BOM_AUDIT_WITNESS_FILE: file,
        AGENT_BOM_AUDIT_WITNESS_URL: sinkUrl,
        AGENT_BOM_AUDIT_WITNESS_TOKEN: 'witness-token-1',
      },
    });
    try {
      const { tenant, reader } = await chainWithTwoCheckpoints(t);
      failNext = 1; // the HTTP sink is down once: nothing is lost, the next publish delivers
      await t.app.get(AuditWitness).publish();
      expect(received.filter((r) => r.body.checkpoints.some((c) => c.tenant_id === tenant))).toEqual([]);
      await t.app.get(AuditWitness).publish();
      const delivered = received.flatMap((r) => r.body.checkpoints).filter((c) => c.tenant_id === tenant);
      expect(delivered.map((c) => c.seq)).toEqual([12, 22]);
      expect(received.every((r) => r.auth === 'Bearer witness-token-1')).toBe(true);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      const lines = (await fs.readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.tenant_id === tenant).map((l) => l.seq)).toEqual([12, 22]);

      expect(await verifyChain(t, reader)).toMatchObject({
        ok: true,
        witness: { sink: 'file', witnessed_seq: 22, ok: true, invalid_lines: 0 },
      });
      // Publishing again delivers nothing new (progress is kept per sink and tenant).
      expect(await t.app.get(AuditWitness).publish()).toBe(0);
      // Offline, a third party compares an export with the witness: intact, it is covered.
      const before = await verifyExportWithCli(t, reader, '', ['--witness', file]);
      expect([before.code, before.report.ok]).toEqual([0, true]);

      await cutBackTo12(t, tenant);
      const report = await verifyChain(t, reader);
      expect(report).toMatchObject({
        ok: false,
        witness: { witnessed_seq: 22, ok: false },
        first_broken: { seq: 22, reason: 'behind_witness' },
      });
      // …and the offline verifier sees the cut in an export too (without --witness the export verifies).
      expect((await verifyExportWithCli(t, reader)).code).toBe(0);
      const after = await verifyExportWithCli(t, reader, '', ['--witness', file]);
      expect(after.code).toBe(1);
      expect(after.report.first_broken).toMatchObject({ seq: 22, reason: 'behind_witness' });
    } finally {
      await t.close();
    }
  });

  it('a forged witness line (not signed by the control plane) is never trusted, only counted', async () => {
    const file = path.join(root, 'forged.jsonl');
    const t = await startTestApp({ env: { AGENT_BOM_AUDIT_WITNESS_FILE: file } });
    try {
      const { tenant, reader } = await chainWithTwoCheckpoints(t);
      await t.app.get(AuditWitness).publish();
      const [real] = (await fs.readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.tenant_id === tenant);
      await fs.appendFile(file, JSON.stringify({ ...real, seq: 999 }) + '\n');
      expect(await verifyChain(t, reader)).toMatchObject({
        ok: true,
        witness: { witnessed_seq: 22, ok: true, invalid_lines: 1 },
      });
    } finally {
      await t.close();
    }
  });

  it('bad-input: a witness URL that is not http(s) refuses to start', async () => {
    expect(() => loadConfig({ AGENT_BOM_AUDIT_WITNESS_URL: 'file:///etc/passwd' })).toThrow(
      /AGENT_BOM_AUDIT_WITNESS_URL/,
    );
  });
});
