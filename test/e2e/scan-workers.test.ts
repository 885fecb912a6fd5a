import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { agent, payload, stdioServer } from '../helpers/fleet.js';
import { CLI, runCli, startServer, waitFor, type Server } from '../helpers/processes.js';

interface Worker {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `agent-bom worker` and waits for its start line. */
async function startWorker(env: NodeJS.ProcessEnv): Promise<Worker> {
  const child = spawn(process.execPath, [CLI, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => output.includes('agent-bom worker running') || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`agent-bom worker exited:\n${output}`);
  return { child, output: () => output, exited };
}

/**
 * The chart's split: `agent-bom api` with AGENT_BOM_SCAN_WORKERS=0 only enqueues; two `agent-bom worker`
 * processes (no HTTP) run the jobs from the shared queue; one is SIGKILLed and the other carries on.
 */
describe('agent-bom worker processes', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let api: Server;
  const workers: Worker[] = [];
  let admin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-workers-'));
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      AGENT_BOM_DATA_DIR: path.join(dir, 'data'),
      AGENT_BOM_SIGNING_KEY_FILE: process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE,
      AGENT_BOM_SCAN_POLL_SECONDS: '1',
      LOG_LEVEL: 'warn',
    };
    expect((await runCli(['tenants', 'create', 'acme'], env)).code).toBe(0);
    admin = (await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'admin'], env)).stdout.trim();
    api = await startServer(['--port', '0'], { ...env, AGENT_BOM_SCAN_WORKERS: '0' });
  }, 90_000);
  afterAll(async () => {
    for (const p of [...workers.map((w) => ({ child: w.child, exited: w.exited })), api]) {
      if (p && p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(api.url + url, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const runJobs = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await call('POST', '/v1/scan');
      expect(res.status).toBe(202);
      ids.push(res.json.id as string);
    }
    const rows = await waitForRows(ids);
    return rows;
  };
  const waitForRows = async (ids: string[]) => {
    let rows: Array<{ status: string; worker: string; attempts: number; error: string | null }> = [];
    await waitFor(async () => {
      rows = (await db.dataSource.query(
        `SELECT status, worker, attempts, error FROM scan_jobs WHERE id = ANY($1::uuid[])`,
        [ids],
      )) as typeof rows;
      return rows.every((r) => r.status === 'done');
    }, 40_000);
    return rows;
  };

  it('a worker with AGENT_BOM_SCAN_WORKERS=0 refuses to start (exit 2)', async () => {
    const res = await runCli(['worker'], { ...env, AGENT_BOM_SCAN_WORKERS: '0' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('AGENT_BOM_SCAN_WORKERS');
  });

  it('the API only enqueues; two worker processes run every job once; a SIGKILLed worker leaves the other running', async () => {
    const sync = await call(
      'POST',
      '/v1/fleet/sync',
      payload('laptop-1', [
        agent('claude-desktop', [stdioServer('tpl', { args: ['-y', 'lodash@4.17.20'] })]),
      ]),
    );
    expect(sync.status).toBe(200);
    workers.push(await startWorker({ ...env, AGENT_BOM_SCAN_WORKERS: '1' }));
    workers.push(await startWorker({ ...env, AGENT_BOM_SCAN_WORKERS: '1' }));
    const pids = workers.map((w) => w.child.pid!);
    const rows = await runJobs(6);
    // A second attempt would mean a run failed (its error is kept on the row) or a job was claimed twice.
    expect(rows.filter((r) => r.attempts !== 1)).toEqual([]);
    const ran = new Set(rows.map((r) => Number(r.worker.split(':')[1])));
    for (const pid of ran) expect(pids).toContain(pid);
    expect(ran).not.toContain(api.child.pid);

    workers[0].child.kill('SIGKILL');
    await workers[0].exited;
    const after = await runJobs(3);
    expect(new Set(after.map((r) => Number(r.worker.split(':')[1])))).toEqual(new Set([pids[1]]));

    workers[1].child.kill('SIGTERM');
    expect(await workers[1].exited).toBe(0);
  }, 120_000);
});
