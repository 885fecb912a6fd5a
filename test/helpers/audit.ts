import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RuntimeAuditEvent, VerifyReport } from '../../libs/contracts/src/index.js';
import { AuditScheduler } from '../../src/modules/audit/audit-scheduler.js';
import type { TestApp } from './app.js';
import { bearer } from './factories.js';
import { runCli } from './processes.js';

/** A valid pushed event with a fresh id. */
export function auditEvent(overrides: Partial<RuntimeAuditEvent> = {}): RuntimeAuditEvent {
  return {
    event_id: randomUUID(),
    type: 'tool_call.denied',
    timestamp: new Date().toISOString(),
    agent: 'claude-desktop',
    client: 'claude-desktop',
    server: 'filesystem',
    tool: 'write_file',
    rule_id: 'no-writes',
    reason: 'writes are not allowed',
    trace_id: randomUUID().replaceAll('-', ''),
    argument_fingerprint: `sha256:${'ab'.repeat(32)}`,
    ...overrides,
  };
}

export function push(t: TestApp, key: string, events: unknown[], extra: Record<string, unknown> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/proxy/audit',
    headers: bearer(key),
    payload: { source_id: 'laptop-1:proxy', events, ...extra },
  });
}

export async function verifyChain(t: TestApp, key: string) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: bearer(key) });
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`);
  return res.json() as VerifyReport & { head: { seq: number; hash: string } | null };
}

/** Signs every chain head now, as the background scheduler would once the interval has passed. */
export function checkpointNow(t: TestApp): Promise<number> {
  return t.app.get(AuditScheduler).checkpointQuietChains(new Date(Date.now() + 86400_000));
}

/**
 * Runs SQL as an attacker with database access would: with the ledger's append-only triggers off
 * (which takes the table owner or a superuser).
 */
export async function tamper(t: TestApp, statements: Array<[string, unknown[]?]>): Promise<void> {
  await t.db.dataSource.transaction(async (manager) => {
    await manager.query('SET LOCAL session_replication_role = replica');
    for (const [sql, params] of statements) await manager.query(sql, params ?? []);
  });
}

/**
 * Exports the tenant's chain over HTTP, saves it and the published key to files, and verifies it with the real
 * `agent-bom audit verify` process.
 */
export async function verifyExportWithCli(
  t: TestApp,
  key: string,
  query = '',
  extraArgs: string[] = [],
): Promise<{ code: number | null; report: VerifyReport; lines: string[]; stderr: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-export-'));
  try {
    const exported = await t.app.inject({
      method: 'GET',
      url: `/v1/audit/export${query}`,
      headers: bearer(key),
    });
    if (exported.statusCode !== 200) throw new Error(`export: ${exported.statusCode} ${exported.body}`);
    const keys = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/verification-key',
      headers: bearer(key),
    });
    const file = path.join(dir, 'export.ndjson');
    const pem = path.join(dir, 'key.pem');
    await fs.writeFile(file, exported.body);
    await fs.writeFile(
      pem,
      keys
        .json()
        .keys.map((k: { public_key_pem: string }) => k.public_key_pem)
        .join(''),
    );
    const result = await runCli(['audit', 'verify', file, '--key', pem, '--json', ...extraArgs], process.env);
    let report: VerifyReport;
    try {
      report = JSON.parse(result.stdout) as VerifyReport;
    } catch {
      throw new Error(`audit verify printed no report (exit ${result.code}): ${result.stderr}`);
    }
    return { code: result.code, report, lines: exported.body.trimEnd().split('\n'), stderr: result.stderr };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function auditCount(t: TestApp, tenantId: string): Promise<number> {
  const [row] = await t.db.dataSource.query(
    'SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1',
    [tenantId],
  );
  return row.n;
}
