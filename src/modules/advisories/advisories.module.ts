import { Module } from '@nestjs/common';
import { AdvisoriesRepository } from './advisories.repository.js';
import { AdvisoriesService } from './advisories.service.js';

/** The shared offline advisory database (OSV format), filled by `agent-bom db import`, read by scans. */
@Module({
  providers: [AdvisoriesRepository, AdvisoriesService],
  exports: [AdvisoriesService],
})
export class AdvisoriesModule {}
