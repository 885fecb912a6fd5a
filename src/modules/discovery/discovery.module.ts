import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DiscoveryAnswers } from './discovery-answers.js';
import { DiscoveryController } from './discovery.controller.js';
import { DiscoveryRepository } from './discovery.repository.js';
import { DiscoveryService } from './discovery.service.js';
import { UpstreamApprovalRepository } from './upstream-approval.repository.js';
import { UpstreamApprovalService } from './upstream-approval.service.js';

@Module({
  imports: [AuditModule],
  controllers: [DiscoveryController],
  providers: [
    DiscoveryAnswers,
    DiscoveryRepository,
    DiscoveryService,
    UpstreamApprovalRepository,
    UpstreamApprovalService,
  ],
})
export class DiscoveryModule {}
