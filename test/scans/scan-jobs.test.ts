import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import PgBoss from 'pg-boss';
import { MemoryAdvisorySource } from '../../libs/advisories/src/index.js';
import { buildScanReport } from '../../libs/scan/src/index.js';
import type { Role } from '../../libs/contracts/src/index.js';
import { createDataSource } from '../../src/core/database/data-source.js';
import { AdvisoriesService } from '../../src/modules/advisories/advisories.service.js';
import { ScanJobsRepository } from '../../src/modules/scans/jobs/scan-jobs.repository.js';
import { SCAN_QUEUE, ScanQueue, type ScanJobData } from '../../src/modules/scans/jobs/scan-queue.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, payload, remoteServer, stdioServer } from '../helpers/fleet.js';
import { OSV_FIXTURES } from './fixture.js';

/**
 * Control-plane scan jobs on pg-boss: two app instances (two replicas, each with its own pool and workers) on
 * one PostgreSQL share the queue; a job runs once; a job abandoned by a dead replica is recovered; the
 * per-tenant concurrency limit holds; cancel; the SSE progress stream; schedules; and the refusals
 * (`unauthenticated`, `wrong-role`, `cross-tenant`, `bad-input`).
 */
describe('scan jobs', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let alpha: string;
  let beta: string;
  const keys = new Map<string, string>();
  const env = {
    AGENT_BOM_SCAN_WORKERS: '2',
    AGENT_BOM_SCAN_TENANT_CONCURRENCY: '1',
    AGENT_BOM_SCAN_JOB_TIMEOUT_SECONDS: '3',
    AGENT_BOM_SCAN_MAINTENANCE_SECONDS: '1',
    AGENT_BOM_SCAN_POLL_SECONDS: '1',
  };

  const req = (
    app: TestApp,
    key: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: object,
  ) => app.app.inject({ method, url, headers: bearer(keys.get(key)!), ...(body ? { payload: body } : {}) });
  const query = <T>(sql: string, params: unknown[] = []) => db.dataSource.query(sql, params) as Promise<T[]>;
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  const finished = (app: TestApp, key: string, id: string) =>
    waitFor(`job ${id}`, async () => {
      const res = await req(app, key, 'GET', `/v1/scan/${id}`);
      const job = res.json() as { status: string };
      return ['done', 'failed', 'cancelled'].includes(job.status)
        ? (job as Record<string, unknown>)
        : undefined;
    });
  /** A live run of another job of the tenant, held by a worker elsewhere (fills a concurrency slot). */
  const holdSlot = async (tenant: string) => {
    const id = crypto.randomUUID();
    await query(
      `INSERT INTO scan_jobs (tenant_id, id, status, trigger, requested_by, boss_job_id, worker, created_at,
         started_at, heartbeat_at)
       VALUES ($1, $2, 'running', 'api', 'test', gen_random_uuid(), 'elsewhere', now(), now(), now() + interval '1 hour')`,
      [tenant, id],
    );
    return async () => query(`UPDATE scan_jobs SET status = 'done', finished_at = now() WHERE id = $1`, [id]);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp({ db, env });
    const second = createDataSource(db.url, 5);
    await second.initialize();
    b = await startTestApp({
      db: { ...db, dataSource: second, drop: async () => void (await second.destroy()) },
      env,
    });
    alpha = await createTenant(a.app);
    beta = await createTenant(a.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'gateway'] as Role[])
      keys.set(role, (await createKey(a.app, alpha, role)).raw);
    keys.set('beta-admin', (await createKey(a.app, beta, 'admin')).raw);
    keys.set('beta-push', (await createKey(a.app, beta, 'fleet-push')).raw);
    await a.app.get(AdvisoriesService).import(OSV_FIXTURES);
    const sync = async (key: string, body: object) => {
      const res = await req(a, key, 'POST', '/v1/fleet/sync', body);
      expect(res.statusCode).toBe(200);
    };
    await sync(
      'fleet-push',
      payload('laptop-1', [
        agent('claude-desktop', [
          stdioServer('tpl', { args: ['-y', 'lodash@4.17.20'], credential_env_names: ['GITHUB_TOKEN'] }),
          stdioServer('cli', { args: ['-y', 'minimist'] }),
          stdioServer('local', { command: 'node', args: ['/etc/passwd-project/index.js'] }),
          remoteServer('docs', 'https://mcp.example.com/mcp'),
        ]),
      ]),
    );
    await sync(
      'beta-push',
      payload('beta-laptop', [
        agent('cursor', [stdioServer('t', { args: ['-y', 'lodash@4.17.15'] })], 'cursor'),
      ]),
    );
    await Promise.all([a.app.get(ScanQueue).startWorkers(2), b.app.get(ScanQueue).startWorkers(2)]);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('POST /v1/scan answers 202 with a queued job; a worker scans the fleet inventory into findings and graph', async () => {
    const res = await req(a, 'analyst', 'POST', '/v1/scan');
    expect(res.statusCode).toBe(202);
    const job = res.json() as { id: string; status: string; kind: string };
    expect(job).toMatchObject({ kind: 'job', status: 'queued', trigger: 'api' });
    const done = await finished(a, 'viewer', job.id);
    expect(done).toMatchObject({
      status: 'done',
      attempts: 1,
      summary: { endpoints: 1, servers: 4, scans: [expect.any(String)] },
    });
    const findings = (await req(a, 'viewer', 'GET', '/v1/findings?limit=200')).json() as {
      items: Array<{ kind: string; subject: string; source_id: string; advisory_id?: string }>;
    };
    const mine = findings.items.filter((f) => f.source_id === 'control-plane:laptop-1');
    expect(mine.map((f) => `${f.kind}:${f.advisory_id ?? f.subject}`).sort()).toEqual(
      expect.arrayContaining([
        'vulnerability:GHSA-35jh-r3h4-6jhm',
        'floating_version:pkg:npm/minimist',
        expect.stringMatching(/^credential_exposure:/),
      ]),
    );
    // The endpoint's local path was never read on the control plane: no package from it.
    const scan = (
      await req(a, 'viewer', 'GET', `/v1/scan/${(done.summary as { scans: string[] }).scans[0]}`)
    ).json() as {
      kind: string;
      result: { packages: Array<{ purl: string }> };
    };
    expect(scan.kind).toBe('job');
    expect(scan.result.packages.map((p) => p.purl).sort()).toEqual([
      'pkg:npm/lodash@4.17.20',
      'pkg:npm/minimist',
    ]);
    const impact = await req(a, 'viewer', 'GET', '/v1/graph/impact?node=vuln:GHSA-35jh-r3h4-6jhm');
    expect(impact.statusCode).toBe(200);
    expect(JSON.stringify(impact.json())).toContain('control-plane:laptop-1');
    // Discovery has the inventory's remote server from the fleet already: the job adds no scan-reported copy.
    expect(
      await query(`SELECT source_id FROM scan_upstreams WHERE source_id LIKE 'control-plane:%'`),
    ).toEqual([]);
    // Beta's inventory is beta's: nothing of it in alpha's job, nothing of alpha in beta's findings.
    const betaFindings = (await req(a, 'beta-admin', 'GET', '/v1/findings?limit=200')).json() as {
      items: unknown[];
    };
    expect(betaFindings.items).toHaveLength(0);
  });

  it('two replicas share the queue: 8 jobs over two tenants each run exactly once', async () => {
    const ids: Array<[string, string]> = [];
    for (let i = 0; i < 8; i++) {
      const [app, key] = i % 2 ? [b, 'admin'] : [a, 'beta-admin'];
      const res = await req(app, key, 'POST', '/v1/scan');
      expect(res.statusCode).toBe(202);
      ids.push([key === 'admin' ? 'viewer' : 'beta-admin', (res.json() as { id: string }).id]);
    }
    for (const [key, id] of ids)
      expect(await finished(a, key, id)).toMatchObject({ status: 'done', attempts: 1 });
    const perJob = await query<{ n: number; id: string }>(
      `SELECT j.id, (SELECT count(*)::int FROM scans s WHERE s.tenant_id = j.tenant_id AND s.kind = 'job'
                       AND s.id::text = ANY(ARRAY(SELECT jsonb_array_elements_text(j.summary->'scans')))) AS n
         FROM scan_jobs j WHERE j.id = ANY($1::uuid[])`,
      [ids.map(([, id]) => id)],
    );
    expect(perJob.map((r) => r.n)).toEqual(Array(8).fill(1));
    const workers = await query<{ worker: string }>(
      `SELECT DISTINCT worker FROM scan_jobs WHERE id = ANY($1::uuid[])`,
      [ids.map(([, id]) => id)],
    );
    // Run by the two replicas' workers and nothing else (which of them took how many is up to the queue).
    const replicas = [a, b].map((t) => t.app.get(ScanQueue).workerId);
    expect(workers.length).toBeGreaterThan(0);
    for (const { worker } of workers) expect(replicas).toContain(worker);
    // Concurrency 1 per tenant: no two runs of one tenant overlapped.
    const runs = await query<{ tenant_id: string; started_at: Date; finished_at: Date }>(
      `SELECT tenant_id, started_at, finished_at FROM scan_jobs WHERE id = ANY($1::uuid[]) ORDER BY started_at`,
      [ids.map(([, id]) => id)],
    );
    for (const tenant of [alpha, beta]) {
      const mine = runs.filter((r) => r.tenant_id === tenant);
      for (let i = 1; i < mine.length; i++)
        expect(+mine[i].started_at).toBeGreaterThanOrEqual(+mine[i - 1].finished_at);
    }
  }, 60_000);

  it('per-tenant concurrency: a tenant at its limit waits; another tenant runs; the waiting job runs once a slot frees', async () => {
    const release = await holdSlot(alpha);
    const waiting = (await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string };
    const other = (await req(b, 'beta-admin', 'POST', '/v1/scan')).json() as { id: string };
    expect(await finished(a, 'beta-admin', other.id)).toMatchObject({ status: 'done' });
    await sleep(2500); // more than one deferral round
    expect((await req(a, 'viewer', 'GET', `/v1/scan/${waiting.id}`)).json()).toMatchObject({
      status: 'queued',
      attempts: 0,
    });
    await release();
    expect(await finished(a, 'viewer', waiting.id)).toMatchObject({ status: 'done', attempts: 1 });
  }, 60_000);

  it('a job abandoned by a dead replica is expired by pg-boss and run by a live one', async () => {
    // The "dead replica": fetches the job from the queue and claims it, then disappears without finishing.
    await Promise.all([a.app.get(ScanQueue).stopWorkers(), b.app.get(ScanQueue).stopWorkers()]);
    const job = (await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string };
    const dead = new PgBoss({
      connectionString: db.url,
      schema: 'pgboss',
      migrate: false,
      supervise: false,
      schedule: false,
    });
    await dead.start();
    const [fetched] = (await dead.fetch<ScanJobData>(SCAN_QUEUE)) ?? [];
    expect(fetched.data.job_id).toBe(job.id);
    expect(await a.app.get(ScanJobsRepository).claim(alpha, job.id, 'dead-replica', 1, 3)).toBe('claimed');
    await dead.stop({ graceful: false, close: true, wait: true });
    expect((await req(a, 'viewer', 'GET', `/v1/scan/${job.id}`)).json()).toMatchObject({ status: 'running' });
    await Promise.all([a.app.get(ScanQueue).startWorkers(2), b.app.get(ScanQueue).startWorkers(2)]);
    const done = await finished(a, 'viewer', job.id);
    expect(done).toMatchObject({ status: 'done', attempts: 2 });
    const [row] = await query<{ worker: string }>(`SELECT worker FROM scan_jobs WHERE id = $1`, [job.id]);
    expect(row.worker).not.toBe('dead-replica');
  }, 60_000);

  it('cancel: a queued job is cancelled and never runs; cancelling a finished job is 409', async () => {
    const release = await holdSlot(alpha);
    const job = (await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string };
    const cancelled = await req(b, 'analyst', 'POST', `/v1/scan/${job.id}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    await release();
    await sleep(2500);
    expect((await req(a, 'viewer', 'GET', `/v1/scan/${job.id}`)).json()).toMatchObject({
      status: 'cancelled',
      attempts: 0,
    });
    const again = await req(a, 'analyst', 'POST', `/v1/scan/${job.id}/cancel`);
    expect(again.statusCode).toBe(409);
  }, 30_000);

  it('GET /v1/scan/{id}/stream sends step progress as Server-Sent Events and ends with the job', async () => {
    const job = (await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string };
    const res = await req(b, 'viewer', 'GET', `/v1/scan/${job.id}/stream`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const events = res.body
      .trim()
      .split('\n\n')
      .map((block) => {
        const [event, data] = block.split('\n');
        return {
          event: event.replace('event: ', ''),
          data: JSON.parse(data.replace('data: ', '')) as Record<string, unknown>,
        };
      });
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { id: job.id, status: 'done' } });
    const steps = events.filter((e) => e.event === 'progress').map((e) => e.data.step);
    expect(steps[0] === null || steps[0] === 'inventory').toBe(true);
    expect(steps).toContain('storing');
  }, 30_000);

  it('schedules: a due schedule is enqueued once even when both replicas tick', async () => {
    const put = await req(a, 'analyst', 'PUT', '/v1/scan-schedule', {
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ cron: '0 3 * * *', timezone: 'Europe/Paris' });
    await query(`UPDATE scan_schedules SET next_run_at = now() - interval '1 minute' WHERE tenant_id = $1`, [
      alpha,
    ]);
    const ticks = await Promise.all([a.app.get(ScanQueue).tick(), b.app.get(ScanQueue).tick()]);
    expect(ticks.sort()).toEqual([0, 1]);
    const [scheduled] = await query<{ id: string }>(
      `SELECT id FROM scan_jobs WHERE tenant_id = $1 AND trigger = 'schedule'`,
      [alpha],
    );
    expect(await finished(a, 'viewer', scheduled.id)).toMatchObject({ status: 'done', trigger: 'schedule' });
    const next = (await req(a, 'viewer', 'GET', '/v1/scan-schedule')).json() as { next_run_at: string };
    expect(Date.parse(next.next_run_at)).toBeGreaterThan(Date.now());
    expect((await req(a, 'analyst', 'DELETE', '/v1/scan-schedule')).statusCode).toBe(204);
    expect((await req(a, 'viewer', 'GET', '/v1/scan-schedule')).statusCode).toBe(404);
  }, 30_000);

  it('GET /v1/jobs lists control-plane jobs and pushed scans, newest first, with a cursor', async () => {
    const first = (await req(a, 'viewer', 'GET', '/v1/jobs?limit=3')).json() as {
      items: Array<{ id: string; kind: string }>;
      next_cursor: string;
    };
    expect(first.items).toHaveLength(3);
    expect(first.items.every((j) => j.kind === 'job')).toBe(true);
    const rest = (
      await req(a, 'viewer', 'GET', `/v1/jobs?limit=200&cursor=${encodeURIComponent(first.next_cursor)}`)
    ).json() as {
      items: Array<{ id: string }>;
    };
    const ids = [...first.items, ...rest.items].map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    const [{ n }] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM scan_jobs WHERE tenant_id = $1`,
      [alpha],
    );
    expect(ids.length).toBe(n);
  });

  describe('refusals', () => {
    let jobId: string;
    beforeAll(async () => {
      jobId = ((await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string }).id;
      await finished(a, 'viewer', jobId);
    });

    it('unauthenticated: 401 on every route', async () => {
      for (const [method, url] of [
        ['POST', '/v1/scan'],
        ['GET', '/v1/jobs'],
        ['GET', `/v1/scan/${jobId}`],
        ['POST', `/v1/scan/${jobId}/cancel`],
        ['GET', `/v1/scan/${jobId}/stream`],
        ['PUT', '/v1/scan-schedule'],
      ] as const) {
        expect((await a.app.inject({ method, url })).statusCode).toBe(401);
      }
    });

    it('wrong-role: viewer, fleet-push and gateway keys cannot start or cancel; fleet-push cannot read', async () => {
      const before = await query<{ n: number }>(`SELECT count(*)::int AS n FROM scan_jobs`);
      for (const key of ['viewer', 'fleet-push', 'gateway']) {
        expect((await req(a, key, 'POST', '/v1/scan')).statusCode).toBe(403);
        expect((await req(a, key, 'POST', `/v1/scan/${jobId}/cancel`)).statusCode).toBe(403);
        expect((await req(a, key, 'PUT', '/v1/scan-schedule', { cron: '* * * * *' })).statusCode).toBe(403);
      }
      for (const url of ['/v1/jobs', `/v1/scan/${jobId}`, `/v1/scan/${jobId}/stream`])
        expect((await req(a, 'fleet-push', 'GET', url)).statusCode).toBe(403);
      expect(await query<{ n: number }>(`SELECT count(*)::int AS n FROM scan_jobs`)).toEqual(before);
    });

    it('cross-tenant: another tenant’s job is a 404 to read, stream or cancel, and absent from its list', async () => {
      expect((await req(a, 'beta-admin', 'GET', `/v1/scan/${jobId}`)).statusCode).toBe(404);
      expect((await req(a, 'beta-admin', 'GET', `/v1/scan/${jobId}/stream`)).statusCode).toBe(404);
      expect((await req(a, 'beta-admin', 'POST', `/v1/scan/${jobId}/cancel`)).statusCode).toBe(404);
      const list = (await req(a, 'beta-admin', 'GET', '/v1/jobs?limit=200')).json() as {
        items: Array<{ id: string }>;
      };
      expect(list.items.map((j) => j.id)).not.toContain(jobId);
    });

    it('bad-input: malformed ids, cursors, cron expressions and timezones are 400s that write nothing', async () => {
      for (const url of [
        '/v1/scan/not-a-uuid',
        '/v1/scan/not-a-uuid/stream',
        '/v1/jobs?cursor=garbage',
        '/v1/jobs?limit=0',
      ])
        expect((await req(a, 'viewer', 'GET', url)).statusCode).toBe(400);
      expect((await req(a, 'analyst', 'POST', '/v1/scan/1%27%20OR%201=1/cancel')).statusCode).toBe(400);
      expect((await req(a, 'viewer', 'GET', `/v1/scan/${crypto.randomUUID()}`)).statusCode).toBe(404);
      for (const body of [
        { cron: 'every day' },
        { cron: '* * * * * *' },
        { cron: '61 * * * *' },
        { cron: '0 3 * * *', timezone: 'Mars/Olympus' },
        { cron: '0 3 * * *', timezone: '../../etc/passwd' },
        { cron: '0 3 * * *', extra: true },
        { cron: 'x'.repeat(10_000) },
      ]) {
        const res = await req(a, 'analyst', 'PUT', '/v1/scan-schedule', body);
        expect(res.statusCode).toBe(400);
      }
      expect(await query(`SELECT * FROM scan_schedules`)).toEqual([]);
    });
  });

  it('a job re-matches the newest pushed result of each source against advisories imported since the push', async () => {
    // Pushed by an endpoint whose advisory database did not know GHSA-35jh-r3h4-6jhm yet.
    const pushed = await buildScanReport({
      sourceId: 'ci-runner',
      agents: [
        agent('claude-code', [
          stdioServer('tpl', { args: ['-y', 'lodash@4.17.20'], credential_env_names: ['NPM_TOKEN'] }),
        ]),
      ],
      projects: [],
      advisories: new MemoryAdvisorySource('empty'),
    });
    expect(pushed.findings.filter((f) => f.kind === 'vulnerability')).toEqual([]);
    expect((await req(a, 'fleet-push', 'POST', '/v1/results/push', pushed)).statusCode).toBe(201);
    const job = (await req(a, 'analyst', 'POST', '/v1/scan')).json() as { id: string };
    expect(await finished(a, 'viewer', job.id)).toMatchObject({
      status: 'done',
      summary: { pushed_sources: 1 },
    });
    const findings = (
      await req(a, 'viewer', 'GET', '/v1/findings?source_id=ci-runner&kind=vulnerability')
    ).json() as {
      items: Array<{ advisory_id: string; credentials: string[]; last_scan_id: string }>;
    };
    expect(findings.items.map((f) => f.advisory_id)).toEqual(['GHSA-35jh-r3h4-6jhm']);
    expect(findings.items[0].credentials).toEqual(['NPM_TOKEN']);
    // The floating/credential findings the endpoint reported stay open (the rematch keeps them).
    const open = (
      await req(a, 'viewer', 'GET', '/v1/findings?source_id=ci-runner&kind=credential_exposure')
    ).json() as {
      items: unknown[];
    };
    expect(open.items).toHaveLength(1);
  }, 30_000);
});
