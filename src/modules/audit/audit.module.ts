import { Module } from '@nestjs/common';
import { AuditController, AuditIngestController } from './audit.controller.js';
import { AuditExportService } from './audit-export.service.js';
import { AuditReadService } from './audit-read.service.js';
import { AuditRepository } from './audit.repository.js';
import { AuditRetentionService } from './audit-retention.service.js';
import { AuditScheduler } from './audit-scheduler.js';
import { AuditService } from './audit.service.js';
import { AuditVerifyService } from './audit-verify.service.js';
import { AuditWitness } from './audit-witness.js';
import { AuditWitnessRepository } from './audit-witness.repository.js';
import { AuditWriter } from './audit-writer.js';
import { ChainReader } from './chain-reader.js';
import { IngestQueue } from './ingest-queue.js';

/**
 * The durable, tamper-evident, tenant-scoped audit ledger (docs/audit.md). Other modules import it for
 * {@link AuditService.record}; it imports nothing but the global core (config, data source, transactions,
 * signing keys).
 */
@Module({
  controllers: [AuditIngestController, AuditController],
  providers: [
    AuditRepository,
    AuditWriter,
    IngestQueue,
    AuditService,
    ChainReader,
    AuditReadService,
    AuditVerifyService,
    AuditExportService,
    AuditRetentionService,
    AuditScheduler,
    AuditWitnessRepository,
    AuditWitness,
  ],
  exports: [AuditService, AuditRetentionService, AuditVerifyService, AuditScheduler, AuditWitness],
})
export class AuditModule {}
