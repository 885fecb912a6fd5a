import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ScanReport } from '../../../../libs/contracts/src/index.js';
import { buildScanReport, rematchReport } from '../../../../libs/scan/src/index.js';
import { systemPrincipal } from '../../../core/auth/principal.js';
import { Transactions } from '../../../core/database/transactions.js';
import { AdvisoriesService } from '../../advisories/advisories.service.js';
import { checkReport, ResultsService } from '../results.service.js';
import { ScanJobsRepository, type ScanJobStatus } from './scan-jobs.repository.js';

/** Thrown out of a run when its job was cancelled; the run stops at its next step. */
export class ScanCancelled extends Error {
  constructor() {
    super('scan job cancelled');
  }
}

/** The source id a control-plane scan of an endpoint stores under (apart from the endpoint's own pushes). */
export function jobSourceId(endpointSourceId: string): string {
  const id = `control-plane:${endpointSourceId}`;
  return id.length <= 200
    ? id
    : `control-plane:${createHash('sha256').update(endpointSourceId).digest('hex').slice(0, 32)}`;
}

export interface RunContext {
  tenantId: string;
  jobId: string;
  worker: string;
}

/**
 * One control-plane scan: the tenant's synced fleet inventory (server launch commands and URLs), endpoint by
 * endpoint, against the PostgreSQL advisory database, then the newest pushed result of each source matched
 * again against today's advisories; each report is validated and stored through {@link ResultsService.store},
 * exactly as a pushed result is. Local paths in the inventory are the endpoints'
 * and never read here. Each step is recorded (and checks for a cancel).
 */
@Injectable()
export class ScanJobRunner {
  constructor(
    private readonly jobs: ScanJobsRepository,
    private readonly advisories: AdvisoriesService,
    private readonly results: ResultsService,
    private readonly transactions: Transactions,
  ) {}

  async run(context: RunContext): Promise<unknown> {
    const { tenantId, jobId } = context;
    let lastWrite = 0;
    const step = async (name: string, done: number, total: number, force = false) => {
      const now = Date.now();
      if (!force && now - lastWrite < 200 && done < total) return;
      lastWrite = now;
      const status: ScanJobStatus | null = await this.jobs.progress(tenantId, jobId, context.worker, {
        step: name,
        done,
        total,
        at: new Date(now).toISOString(),
      });
      if (status !== 'running') throw new ScanCancelled();
    };

    await step('inventory', 0, 1, true);
    const endpoints = await this.jobs.inventory(tenantId);
    const serverTotal = endpoints.reduce((n, e) => n + e.agents.reduce((m, a) => m + a.servers.length, 0), 0);
    await step('inventory', 1, 1, true);

    const principal = systemPrincipal(tenantId, `scan-job:${jobId}`);
    const scans: string[] = [];
    const findings = { reported: 0, new: 0, reopened: 0, resolved: 0 };
    let extracted = 0;
    for (const [index, endpoint] of endpoints.entries()) {
      const before = extracted;
      const pending: Array<Promise<void>> = [];
      const report = await buildScanReport({
        sourceId: jobSourceId(endpoint.source_id),
        ...(endpoint.hostname ? { endpoint: { hostname: endpoint.hostname } } : {}),
        agents: endpoint.agents,
        projects: [],
        readLocalProjects: false,
        advisories: this.advisories,
        onStep: (name, done) => {
          if (name === 'extracting') {
            extracted = before + done;
            const written = step('extracting', extracted, serverTotal);
            written.catch(() => undefined); // surfaced by the Promise.all below
            pending.push(written);
          }
        },
      });
      await Promise.all(pending);
      await step('matching', index + 1, endpoints.length, true);
      const checked = checkReport(report);
      // Discovery has these servers from the fleet already.
      const answer = await this.transactions.run((tx) =>
        this.results.store(principal, checked, 'job', new Date(), tx, { discovery: false }),
      );
      scans.push(answer.scan_id);
      for (const key of Object.keys(findings) as Array<keyof typeof findings>)
        findings[key] += answer.findings[key];
      await step('storing', index + 1, endpoints.length, true);
    }
    // Results pushed by `agent-bom scan`: each source's newest report, matched again against today's advisories.
    const pushed = await this.jobs.latestPushed(tenantId);
    for (const [index, { id }] of pushed.entries()) {
      const stored = (await this.jobs.pushedReport(tenantId, id)) as ScanReport | null;
      if (stored) {
        const checked = checkReport(await rematchReport(stored, this.advisories));
        const answer = await this.transactions.run((tx) =>
          this.results.store(principal, checked, 'job', new Date(), tx),
        );
        scans.push(answer.scan_id);
        for (const key of Object.keys(findings) as Array<keyof typeof findings>)
          findings[key] += answer.findings[key];
      }
      await step('rematching', index + 1, pushed.length, true);
    }
    return {
      endpoints: endpoints.length,
      servers: serverTotal,
      pushed_sources: pushed.length,
      scans,
      findings,
    };
  }
}
