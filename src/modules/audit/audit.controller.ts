import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuditIngestResult, AuditTrendsView } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { AuditExportService } from './audit-export.service.js';
import { AuditReadService } from './audit-read.service.js';
import { AuditVerifyService } from './audit-verify.service.js';
import { AuditService } from './audit.service.js';
import { BatchLimitInterceptor } from './batch-limit.interceptor.js';
import { IngestAuditDto } from './dto/ingest.dto.js';
import { ExportAuditQuery, ListAuditQuery, TrendsQuery } from './dto/query.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('proxy/audit')
export class AuditIngestController {
  constructor(private readonly audit: AuditService) {}

  @Post()
  @HttpCode(200)
  @RequirePermission('audit:write')
  @UseInterceptors(BatchLimitInterceptor)
  @ApiOperation({
    summary: "Push a batch of proxy/gateway events into your tenant's ledger (durable before the reply)",
  })
  ingest(@CurrentPrincipal() principal: Principal, @Body() body: IngestAuditDto): Promise<AuditIngestResult> {
    return this.audit.ingest(principal, body);
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(
    private readonly reader: AuditReadService,
    private readonly verifier: AuditVerifyService,
    private readonly exporter: AuditExportService,
  ) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: "Your tenant's ledger, newest first, filtered, cursor-paginated" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListAuditQuery) {
    return this.reader.list(principal, query);
  }

  @Get('verify')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: "Verify your tenant's chain: range verified and the first broken link" })
  verify(@CurrentPrincipal() principal: Principal) {
    return this.verifier.verify(principal);
  }

  @Get('trends')
  @RequirePermission('audit:read')
  @ApiOperation({
    summary:
      'Per UTC day, the last `days` (1–90, default 30): runtime decisions by decision and open findings',
  })
  trends(@CurrentPrincipal() principal: Principal, @Query() query: TrendsQuery): Promise<AuditTrendsView> {
    return this.reader.trends(principal, query);
  }

  @Get('verification-key')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Public keys that verify checkpoints and exports (current and retired)' })
  verificationKey() {
    return this.reader.verificationKeys();
  }

  @Get('export')
  @RequirePermission('audit:read')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({ summary: 'Export a seq range as NDJSON ending with a signed checkpoint (itself audited)' })
  async export(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ExportAuditQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const { filename, lines } = await this.exporter.start(principal, query);
    void reply.header('content-disposition', `attachment; filename="${filename}"`);
    return new StreamableFile(Readable.from(lines, { objectMode: false }), {
      type: 'application/x-ndjson; charset=utf-8',
    });
  }
}
