import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { FleetEnrollmentRepository } from './fleet-enrollment.repository.js';
import { FleetEnrollmentService } from './fleet-enrollment.service.js';
import { FleetReadRepository } from './fleet-read.repository.js';
import { FleetReadService } from './fleet-read.service.js';
import { FleetSyncRepository } from './fleet-sync.repository.js';
import { FleetSyncService } from './fleet-sync.service.js';
import { FleetController } from './fleet.controller.js';

@Module({
  imports: [AuditModule, AuthModule],
  controllers: [FleetController],
  providers: [
    FleetEnrollmentRepository,
    FleetEnrollmentService,
    FleetSyncRepository,
    FleetSyncService,
    FleetReadRepository,
    FleetReadService,
  ],
  // Scan reports (results push) are admitted by the same endpoint enrollment as syncs, and their remote servers
  // are named by the same upstream-name registry.
  exports: [FleetEnrollmentService, FleetSyncRepository],
})
export class FleetModule {}
