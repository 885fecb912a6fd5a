import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../core/auth/principal.js';
import { timeIdCursor } from '../../../core/http/cursor.js';
import type { PageQuery } from '../../../core/http/page.dto.js';
import { conflict, invalid, notFound } from '../../../core/errors/domain-error.js';
import { AuditService } from '../../audit/audit.service.js';
import { ScansReadService } from '../scans-read.service.js';
import { nextRun, ScanQueue } from './scan-queue.js';
import { ScanJobsRepository, TERMINAL_STATUSES, type ScanJobRow } from './scan-jobs.repository.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function jobView(row: ScanJobRow) {
  return {
    id: row.id,
    kind: 'job' as const,
    status: row.status,
    trigger: row.trigger,
    requested_by: row.requested_by,
    attempts: row.attempts,
    step: row.step,
    progress: row.progress,
    error: row.error,
    summary: row.summary,
    created_at: iso(row.created_at),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
  };
}

/** `POST /v1/scan`, job reads, cancel, the progress stream, and the tenant's scan schedule. */
@Injectable()
export class ScanJobsService {
  constructor(
    private readonly jobs: ScanJobsRepository,
    private readonly queue: ScanQueue,
    private readonly reads: ScansReadService,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal) {
    const id = await this.queue.enqueue(principal.tenantId, 'api', principal.subject);
    await this.audit.record(principal, { type: 'scan.job_created', resource_type: 'scan', resource_id: id });
    const row = await this.jobs.get(principal.tenantId, id);
    return jobView(row!);
  }

  /** A job, or else a stored scan (pushed, or one endpoint's result of a job). */
  async get(principal: Principal, id: string) {
    const row = await this.jobs.get(principal.tenantId, id);
    if (row) return jobView(row);
    return this.reads.getScan(principal, id);
  }

  async list(principal: Principal, query: PageQuery) {
    const limit = query.limit ?? 50;
    const after = query.cursor ? timeIdCursor.decode(query.cursor) : undefined;
    const rows = await this.jobs.listAll(
      principal.tenantId,
      limit + 1,
      after ? { createdAt: after.at, id: after.id } : undefined,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        kind: r.kind,
        status: r.status,
        ...(r.trigger ? { trigger: r.trigger } : {}),
        ...(r.source_id ? { source_id: r.source_id } : {}),
        triggered_by: r.requested_by,
        step: r.step,
        created_at: iso(r.created_at),
        completed_at: iso(r.finished_at),
        summary: r.summary,
      })),
      next_cursor: rows.length > limit && last ? timeIdCursor.encode(last.created_at, last.id) : null,
    };
  }

  /** Cancels a queued or running job (a running one stops at its next step). Finished jobs are a 409. */
  async cancel(principal: Principal, id: string) {
    const before = await this.jobs.get(principal.tenantId, id);
    if (!before) throw notFound('scan job');
    if (TERMINAL_STATUSES.includes(before.status)) {
      throw conflict(`scan job is already ${before.status}`);
    }
    const after = await this.jobs.cancel(principal.tenantId, id);
    await this.queue.cancel(before.boss_job_id);
    await this.audit.record(principal, {
      type: 'scan.job_cancelled',
      resource_type: 'scan',
      resource_id: id,
    });
    return jobView(after!);
  }

  /** The job's row, for the stream; null when the tenant has no such job. */
  snapshot(principal: Principal, id: string) {
    return this.jobs.get(principal.tenantId, id);
  }

  async getSchedule(principal: Principal) {
    const row = await this.jobs.getSchedule(principal.tenantId);
    if (!row) throw notFound('scan schedule');
    return scheduleView(row);
  }

  async putSchedule(principal: Principal, body: { cron: string; timezone?: string }) {
    const timezone = body.timezone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw invalid('timezone', `is not a known IANA timezone`);
    }
    let next: Date;
    try {
      next = nextRun(body.cron, timezone);
    } catch (error) {
      throw invalid('cron', `is not a valid cron expression in ${timezone}: ${(error as Error).message}`);
    }
    await this.jobs.putSchedule(principal.tenantId, {
      cron: body.cron,
      timezone,
      next_run_at: next,
      updated_by: principal.subject,
    });
    await this.audit.record(principal, {
      type: 'scan.schedule_set',
      resource_type: 'scan_schedule',
      resource_id: principal.tenantId,
      details: { cron: body.cron, timezone },
    });
    return this.getSchedule(principal);
  }

  async deleteSchedule(principal: Principal) {
    if (!(await this.jobs.deleteSchedule(principal.tenantId))) throw notFound('scan schedule');
    await this.audit.record(principal, {
      type: 'scan.schedule_deleted',
      resource_type: 'scan_schedule',
      resource_id: principal.tenantId,
    });
  }
}

function scheduleView(row: {
  cron: string;
  timezone: string;
  next_run_at: Date;
  updated_by: string;
  updated_at: Date;
}) {
  return {
    cron: row.cron,
    timezone: row.timezone,
    next_run_at: iso(row.next_run_at),
    updated_by: row.updated_by,
    updated_at: iso(row.updated_at),
  };
}
