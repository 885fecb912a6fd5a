import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type {
  FindingDetailView,
  FindingView,
  RemediationPlanView,
  TriageResultView,
} from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { patternParam, uuidParam } from '../../core/http/uuid-param.js';
import { FindingsQuery, TriageDto } from './dto/findings-query.dto.js';
import { ResultsService } from './results.service.js';
import { ScansReadService } from './scans-read.service.js';

@ApiTags('scans')
@ApiBearerAuth()
@Controller()
export class ScansController {
  constructor(
    private readonly results: ResultsService,
    private readonly reads: ScansReadService,
  ) {}

  @Post('results/push')
  @HttpCode(201)
  @RequirePermission('scan:push')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Replays return the first response' })
  @ApiBody({ description: 'the document `agent-bom scan --format json` prints' })
  @ApiOperation({
    summary: 'Store one agent-bom scan result and fold its findings into the tenant’s findings',
  })
  push(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return this.results.push(principal, body, idempotencyKey);
  }

  @Get('scan/:id/remediation')
  @RequirePermission('scan:read')
  @ApiOperation({
    summary: 'Per package: fixed version, exact change, advisories resolved; ranked by risk removed',
  })
  scanRemediation(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
  ): Promise<RemediationPlanView> {
    return this.reads.scanRemediation(principal, id);
  }

  @Get('remediation')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'Remediation across the tenant’s open vulnerability findings' })
  remediation(@CurrentPrincipal() principal: Principal): Promise<RemediationPlanView> {
    return this.reads.tenantRemediation(principal);
  }

  @Get('findings')
  @RequirePermission('scan:read')
  @ApiOperation({ summary: 'Current findings with filters, search and cursor pagination (default: open)' })
  findings(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FindingsQuery,
  ): Promise<{ items: FindingView[]; next_cursor: string | null }> {
    return this.reads.findings(principal, query);
  }

  @Get('findings/:id')
  @RequirePermission('scan:read')
  @ApiOperation({
    summary: 'One finding on every endpoint that reports it; 404 for an id not in your tenant (or malformed)',
  })
  finding(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<FindingDetailView> {
    return this.reads.finding(principal, id);
  }

  @Patch('findings/:id/triage')
  @RequirePermission('findings:triage')
  @ApiOperation({
    summary: 'Triage a finding: open, accepted_risk (reason, optional expiry), false_positive (audited)',
  })
  triage(
    @CurrentPrincipal() principal: Principal,
    @Param('id', patternParam('id', /^f_[0-9a-f]{24}$/, 'must be a finding id (f_ + 24 hex)')) id: string,
    @Body() body: TriageDto,
  ): Promise<TriageResultView> {
    return this.reads.triage(principal, id, body);
  }
}
