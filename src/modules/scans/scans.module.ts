import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { GraphModule } from '../graph/graph.module.js';
import { ResultsService } from './results.service.js';
import { ScansReadService } from './scans-read.service.js';
import { ScansController } from './scans.controller.js';
import { ScansRepository } from './scans.repository.js';

/** Scan results pushed by `agent-bom scan`, the tenant's findings with triage, and remediation. */
@Module({
  imports: [AuditModule, FleetModule, GraphModule],
  controllers: [ScansController],
  providers: [ScansRepository, ResultsService, ScansReadService],
})
export class ScansModule {}
