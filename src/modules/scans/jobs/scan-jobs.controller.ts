import { setTimeout as sleep } from 'node:timers/promises';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { notFound } from '../../../core/errors/domain-error.js';
import { PageQuery } from '../../../core/http/page.dto.js';
import { uuidParam } from '../../../core/http/uuid-param.js';
import { ScheduleDto } from './schedule.dto.js';
import { TERMINAL_STATUSES } from './scan-jobs.repository.js';
import { jobView, ScanJobsService } from './scan-jobs.service.js';

/** How often the stream re-reads the job row (one indexed row per tick per open stream). */
const STREAM_TICK_MS = 250;
/** A stream ends after this long even if the job has not (the client reconnects). */
const STREAM_MAX_MS = 10 * 60_000;

@ApiTags('scans')
@ApiBearerAuth()
@Controller()
export class ScanJobsController {
  constructor(private readonly jobs: ScanJobsService) {}

  @Post('scan')
  @HttpCode(202)
  @RequirePermission('scan:run')
  @ApiOperation({ summary: 'Queue a control-plane scan of the tenant’s fleet inventory (202 + job)' })
  create(@CurrentPrincipal() principal: Principal) {
    return this.jobs.create(principal);
  }

  @Get('jobs')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'Control-plane scan jobs and pushed scans, newest first (cursor pagination)' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: PageQuery) {
    return this.jobs.list(principal, query);
  }

  @Get('scan/:id')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'A scan job (status, step progress, summary) or a stored scan result' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string) {
    return this.jobs.get(principal, id);
  }

  @Post('scan/:id/cancel')
  @HttpCode(200)
  @RequirePermission('scan:run')
  @ApiOperation({ summary: 'Cancel a queued or running scan job (a running one stops at its next step)' })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id', uuidParam('id')) id: string) {
    return this.jobs.cancel(principal, id);
  }

  @Get('scan/:id/stream')
  @RequirePermission('scan:read')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Server-Sent Events: `progress` on every step change, then one `end` with the final job',
  })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const first = await this.jobs.snapshot(principal, id);
    if (!first) throw notFound('scan job');
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
      'x-request-id': String(reply.request.id),
    });
    let closed = false;
    raw.on('close', () => (closed = true));
    const send = (event: string, data: unknown) =>
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let seen = '';
    const started = Date.now();
    let row = first;
    while (!closed) {
      const view = jobView(row);
      const key = `${row.status}|${JSON.stringify(row.progress.at(-1) ?? null)}`;
      if (key !== seen) {
        seen = key;
        send('progress', { status: view.status, step: view.step, progress: view.progress.at(-1) ?? null });
      }
      if (TERMINAL_STATUSES.includes(row.status)) {
        send('end', view);
        break;
      }
      if (Date.now() - started > STREAM_MAX_MS) break;
      await sleep(STREAM_TICK_MS);
      const next = await this.jobs.snapshot(principal, id);
      if (!next) break;
      row = next;
    }
    raw.end();
  }

  @Get('scan-schedule')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'The tenant’s scheduled scan (cron), if any' })
  getSchedule(@CurrentPrincipal() principal: Principal) {
    return this.jobs.getSchedule(principal);
  }

  @Put('scan-schedule')
  @RequirePermission('scan:run')
  @ApiOperation({
    summary: 'Set the tenant’s scheduled scan: a 5-field cron expression and an IANA timezone',
  })
  putSchedule(@CurrentPrincipal() principal: Principal, @Body() body: ScheduleDto) {
    return this.jobs.putSchedule(principal, body);
  }

  @Delete('scan-schedule')
  @HttpCode(204)
  @RequirePermission('scan:run')
  async deleteSchedule(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.jobs.deleteSchedule(principal);
  }
}
