import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import PgBoss from 'pg-boss';
import cronParser from 'cron-parser';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { PG_BOSS_SCHEMA } from '../../../../migrations/1764212800000-ScanJobs.js';
import { ScanCancelled, ScanJobRunner } from './scan-job-runner.js';
import { ScanJobsRepository } from './scan-jobs.repository.js';

export const SCAN_QUEUE = 'agent-bom.scan';
export const SCHEDULE_QUEUE = 'agent-bom.scan-schedule';

export interface ScanJobData {
  tenant_id: string;
  job_id: string;
}

/** How long a deferred job (its tenant at its concurrency limit, or its row held by a live run) waits. */
const DEFER_SECONDS = 2;

/**
 * The scan queue on pg-boss, shared by every control-plane replica through PostgreSQL (schema `pgboss`, made by
 * a migration; pg-boss never migrates at boot). Every process can enqueue and cancel; processes with
 * `AGENT_BOM_SCAN_WORKERS` > 0 (`agent-bom api` by default, `agent-bom worker`) also run jobs, supervise
 * (expired jobs of a dead replica are failed and retried with backoff) and run the per-minute schedule tick.
 *
 * pg-boss fetches with `FOR UPDATE SKIP LOCKED`, so one queued job goes to one worker; the job row's claim
 * (per-tenant lock, live heartbeats) enforces the tenant's concurrency limit and keeps a retried job from
 * running beside a still-live first run.
 */
@Injectable()
export class ScanQueue implements OnModuleDestroy {
  private readonly log = new Logger('ScanQueue');
  private boss: PgBoss | undefined;
  private starting: Promise<PgBoss> | undefined;
  private workers = 0;
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: ScanJobsRepository,
    private readonly runner: ScanJobRunner,
  ) {}

  /** Enqueues a job for an existing `scan_jobs` row id; answers the pg-boss job id. */
  async send(data: ScanJobData, startAfterSeconds?: number): Promise<string> {
    const boss = await this.start();
    const id = await boss.send(SCAN_QUEUE, data, {
      retryLimit: this.config.scanRetryLimit,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: this.config.scanJobTimeoutSeconds,
      ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}),
    });
    if (!id) throw new Error('pg-boss refused the job');
    return id;
  }

  async cancel(bossJobId: string): Promise<void> {
    const boss = await this.start();
    await boss.cancel(SCAN_QUEUE, bossJobId);
  }

  /** Starts `count` polling workers in this process (and supervision and the schedule tick). */
  async startWorkers(count: number): Promise<void> {
    if (count <= 0 || this.workers > 0) return;
    this.workers = count;
    const boss = await this.start();
    for (let i = 0; i < count; i++) {
      await boss.work<ScanJobData>(
        SCAN_QUEUE,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.config.scanPollSeconds },
        async ([job]) => this.handle(boss, job),
      );
    }
    await boss.work(SCHEDULE_QUEUE, { pollingIntervalSeconds: this.config.scanPollSeconds }, async () => {
      await this.tick();
    });
    await boss.schedule(SCHEDULE_QUEUE, '* * * * *');
    this.log.log(`scan workers: ${count} (worker ${this.workerId})`);
  }

  /** Stops this process's workers (running jobs finish their run); `startWorkers` may start them again. */
  async stopWorkers(): Promise<void> {
    if (!this.boss || this.workers === 0) return;
    await this.boss.offWork(SCAN_QUEUE);
    await this.boss.offWork(SCHEDULE_QUEUE);
    this.workers = 0;
  }

  /** Enqueues a run for every tenant schedule that is due (each once, whichever replica ticks). */
  async tick(now = new Date()): Promise<number> {
    const due = await this.jobs.takeDue(now, nextRun);
    for (const { tenant_id } of due) await this.enqueue(tenant_id, 'schedule', 'schedule');
    return due.length;
  }

  /** Creates the job row and its pg-boss job. */
  async enqueue(tenantId: string, trigger: 'api' | 'schedule', requestedBy: string): Promise<string> {
    const id = randomUUID();
    const bossJobId = randomUUID();
    await this.jobs.insert(tenantId, {
      id,
      trigger,
      requested_by: requestedBy,
      boss_job_id: bossJobId,
      created_at: new Date(),
    });
    const boss = await this.start();
    await boss.send(SCAN_QUEUE, { tenant_id: tenantId, job_id: id } satisfies ScanJobData, {
      id: bossJobId,
      retryLimit: this.config.scanRetryLimit,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: this.config.scanJobTimeoutSeconds,
    });
    return id;
  }

  private async handle(boss: PgBoss, job: PgBoss.JobWithMetadata<ScanJobData>): Promise<unknown> {
    const { tenant_id: tenantId, job_id: jobId } = job.data;
    const stale = this.config.scanJobTimeoutSeconds;
    const claim = await this.jobs.claim(
      tenantId,
      jobId,
      this.workerId,
      this.config.scanTenantConcurrency,
      stale,
    );
    if (claim === 'finished') return { skipped: 'finished' };
    if (claim !== 'claimed') {
      const next = await this.send(job.data, DEFER_SECONDS);
      await this.jobs.requeue(tenantId, jobId, next);
      return { deferred: claim };
    }
    const heartbeat = setInterval(
      () => void this.jobs.progress(tenantId, jobId, this.workerId, null).catch(() => undefined),
      Math.max(1000, (stale * 1000) / 4),
    );
    try {
      const summary = await this.runner.run({ tenantId, jobId, worker: this.workerId });
      await this.jobs.finish(tenantId, jobId, this.workerId, { status: 'done', summary });
      return summary;
    } catch (error) {
      if (error instanceof ScanCancelled) return { cancelled: true };
      const message = error instanceof Error ? error.message : String(error);
      const retriesLeft = job.retryCount < job.retryLimit;
      await this.jobs.finish(tenantId, jobId, this.workerId, {
        status: retriesLeft ? 'queued' : 'failed',
        error: message.slice(0, 2000),
      });
      this.log.warn(`scan job ${jobId} failed (attempt ${job.retryCount + 1}): ${message}`);
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }

  private start(): Promise<PgBoss> {
    if (this.boss) return Promise.resolve(this.boss);
    this.starting ??= this.open().then((boss) => (this.boss = boss));
    return this.starting;
  }

  private async open(): Promise<PgBoss> {
    const working = this.workers > 0;
    const boss = new PgBoss({
      db: this.jobs.queueConnection(),
      schema: PG_BOSS_SCHEMA,
      migrate: false,
      supervise: working,
      schedule: working,
      maintenanceIntervalSeconds: this.config.scanMaintenanceSeconds,
    });
    boss.on('error', (error: Error) => this.log.error(`pg-boss: ${error.message}`));
    await boss.start();
    return boss;
  }

  async onModuleDestroy(): Promise<void> {
    const boss = this.boss ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (!boss) return;
    // The pool is the app's: pg-boss must not close it.
    await boss.stop({ graceful: true, close: false, wait: true, timeout: 10_000 });
  }
}

/** The next run of a cron expression after now, in a timezone. */
export function nextRun(cron: string, timezone: string): Date {
  return cronParser.parseExpression(cron, { tz: timezone, currentDate: new Date() }).next().toDate();
}
