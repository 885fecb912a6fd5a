import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { GraphModule } from '../graph/graph.module.js';
import { AdvisoriesModule } from '../advisories/advisories.module.js';
import { ScanJobRunner } from './jobs/scan-job-runner.js';
import { ScanJobsController } from './jobs/scan-jobs.controller.js';
import { ScanJobsRepository } from './jobs/scan-jobs.repository.js';
import { ScanJobsService } from './jobs/scan-jobs.service.js';
import { ScanQueue } from './jobs/scan-queue.js';
import { ResultsService } from './results.service.js';
import { ScansReadService } from './scans-read.service.js';
import { ScansController } from './scans.controller.js';
import { ScansRepository } from './scans.repository.js';

/**
 * Scan results pushed by `agent-bom scan`, control-plane scan jobs on pg-boss, the tenant's findings with
 * triage, and remediation.
 */
@Module({
  imports: [AuditModule, FleetModule, GraphModule, AdvisoriesModule],
  controllers: [ScansController, ScanJobsController],
  providers: [
    ScansRepository,
    ResultsService,
    ScansReadService,
    ScanJobsRepository,
    ScanJobRunner,
    ScanQueue,
    ScanJobsService,
  ],
  exports: [ScanQueue],
})
export class ScansModule {}
