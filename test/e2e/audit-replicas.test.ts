import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditIngestResult, VerifyReport } from '../../libs/contracts/src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli, startServer, waitFor, type Server } from '../helpers/processes.js';

/**
 * The acceptance test of the ledger under real concurrency: two `agent-bom api` processes on one PostgreSQL,
 * sharing one signing key, both appending to one tenant's chain at once (with re-sends across replicas), and
 * the CLI acting on the same database. The chain must verify, with every event exactly once, no fork, no gap.
 */
describe('two control planes writing one tenant chain concurrently', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const servers: Server[] = [];
  let analyst: string;
  let proxy: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-replicas-'));
    const keyFile = path.join(dir, 'signing.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    await fs.writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      AGENT_BOM_SIGNING_KEY_FILE: keyFile,
      AGENT_BOM_DATA_DIR: path.join(dir, 'data'),
      AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: '200',
      AGENT_BOM_AUDIT_CHECKPOINT_SECONDS: '1',
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const call = async (server: Server, method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(server.url + url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.text() };
  };
  const verify = async (server: Server) =>
    JSON.parse((await call(server, 'GET', '/v1/audit/verify', analyst)).body) as VerifyReport & {
      head: { seq: number };
    };

  it('the CLI creates the tenant and keys; both replicas start on the database', async () => {
    expect((await runCli(['tenants', 'create', 'acme'], env)).code).toBe(0);
    const analystKey = await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'analyst'], env);
    const proxyKey = await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'proxy'], env);
    expect([analystKey.code, proxyKey.code]).toEqual([0, 0]);
    analyst = analystKey.stdout.trim();
    proxy = proxyKey.stdout.trim();
    servers.push(
      ...(await Promise.all([startServer(['--port', '0'], env), startServer(['--port', '0'], env)])),
    );
    expect(servers[0].url).not.toBe(servers[1].url);
  }, 120_000);

  it('concurrent batches on both replicas: every event once, the chain verifies, no fork, no gap', async () => {
    const sent = new Set<string>();
    let resends = 0;
    const results: AuditIngestResult[] = [];
    const worker = async (s: number, w: number) => {
      let previous: unknown[] | undefined;
      for (let round = 0; round < 15; round++) {
        const size = 1 + ((s * 7 + w * 13 + round * 29) % 40);
        const events = Array.from({ length: size }, (_, i) => {
          const event_id = `s${s}-w${w}-r${round}-${i}`;
          sent.add(event_id);
          return {
            event_id,
            type: 'tool_call.allowed',
            timestamp: new Date().toISOString(),
            tool: `t${i % 5}`,
          };
        });
        const pushes = [
          call(servers[s], 'POST', '/v1/proxy/audit', proxy, { source_id: `p${s}${w}`, events }),
        ];
        if (previous && round % 3 === 0) {
          // A proxy that timed out and retried against the other replica.
          resends += previous.length;
          pushes.push(
            call(servers[1 - s], 'POST', '/v1/proxy/audit', proxy, {
              source_id: `p${s}${w}`,
              events: previous,
            }),
          );
        }
        for (const res of await Promise.all(pushes)) {
          expect(res.status).toBe(200);
          results.push(JSON.parse(res.body));
        }
        previous = events;
      }
    };
    await Promise.all([0, 1].flatMap((s) => Array.from({ length: 6 }, (_, w) => worker(s, w))));

    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(sent.size);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(resends);
    expect(results.reduce((n, r) => n + r.conflicts, 0)).toBe(0);

    const [a, b] = await Promise.all(servers.map(verify));
    expect(a).toMatchObject({ ok: true, verified_from: 1, start: 'genesis', first_broken: null });
    expect(b).toEqual(a);
    const [stats] = await db.dataSource.query(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids, min(seq)::int AS first, max(seq)::int AS last
       FROM audit_entries WHERE tenant_id = 'acme'`,
    );
    expect(stats).toEqual({ n: a.head.seq, ids: a.head.seq, first: 1, last: a.head.seq });
    expect(a.verified_to).toBe(a.head.seq);
    const stored = await db.dataSource.query(
      `SELECT event_id FROM audit_entries WHERE tenant_id = 'acme' AND event->>'origin' = 'runtime'`,
    );
    expect(new Set(stored.map((r: { event_id: string }) => r.event_id))).toEqual(sent);
    // tenant.created + two api_key.created by the CLI, then the pushed events.
    expect(a.head.seq).toBe(sent.size + 3);
  }, 120_000);

  it('a replica signs a quiet chain within the checkpoint interval', async () => {
    await waitFor(async () => {
      const report = await verify(servers[0]);
      return report.checkpointed_to === report.verified_to;
    }, 15_000);
  }, 30_000);

  it("the CLI's own actions are in the ledger, with actor cli:<user>", async () => {
    const res = await call(servers[1], 'GET', '/v1/audit?origin=control_plane', analyst);
    const items = JSON.parse(res.body).items as Array<{
      seq: number;
      event: { type: string; actor: { subject: string } };
    }>;
    expect(items.map((i) => [i.seq, i.event.type]).reverse()).toEqual([
      [1, 'tenant.created'],
      [2, 'api_key.created'],
      [3, 'api_key.created'],
    ]);
    expect(items.every((i) => i.event.actor.subject === `cli:${os.userInfo().username}`)).toBe(true);
    expect(res.body).not.toContain(analyst);
  });

  it('an export from one replica verifies offline against the key published by the other', async () => {
    const exported = await call(servers[1], 'GET', '/v1/audit/export', analyst);
    expect(exported.status).toBe(200);
    const file = path.join(dir, 'export.ndjson');
    await fs.writeFile(file, exported.body);
    const result = await runCli(
      ['audit', 'verify', file, '--key-url', `${servers[0].url}/v1/audit/verification-key`],
      { ...env, AGENT_BOM_TOKEN: analyst },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: tenant acme, entries 1\.\.\d+ verified/);
    const usage = await runCli(['audit', 'verify', file], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('a public key is required');
  }, 60_000);

  it('agent-bom audit prune cuts at a signed checkpoint and the chain still verifies on both replicas', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const pruned = await runCli(['audit', 'prune', '--tenant', 'acme', '--older-than', '1s', '--json'], env);
    expect(pruned.code).toBe(0);
    const [result] = JSON.parse(pruned.stdout);
    expect(result.pruned).toBeGreaterThan(0);
    for (const server of servers) {
      expect(await verify(server)).toMatchObject({
        ok: true,
        start: 'anchor',
        verified_from: result.anchor_seq + 1,
      });
    }
    const none = await runCli(['audit', 'prune'], { ...env, AGENT_BOM_AUDIT_RETENTION_DAYS: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no retention configured');
  }, 60_000);

  it('both replicas stop cleanly on SIGTERM', async () => {
    for (const server of servers) server.child.kill('SIGTERM');
    expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0]);
  }, 30_000);
});
