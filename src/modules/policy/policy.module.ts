import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { BundleController } from './bundle.controller.js';
import { BundleVersions } from './bundle-versions.js';
import { PoliciesController } from './policies.controller.js';
import { PolicyBundleService } from './policy-bundle.service.js';
import { PolicyEvaluateService } from './policy-evaluate.service.js';
import { PolicyReadService } from './policy-read.service.js';
import { PolicyWriteService } from './policy-write.service.js';
import { PolicyRepository } from './policy.repository.js';

/**
 * Stored, versioned policies; the tenant's effective policy as signed bundles for proxies and gateways; dry runs
 * (docs/policy.md). Signing keys come from the global SigningModule, the audit ledger from AuditModule.
 */
@Module({
  imports: [AuditModule],
  controllers: [PoliciesController, BundleController],
  providers: [
    PolicyRepository,
    PolicyReadService,
    PolicyWriteService,
    PolicyBundleService,
    PolicyEvaluateService,
    BundleVersions,
  ],
  exports: [PolicyBundleService],
})
export class PolicyModule {}
