import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
  type FleetAgentDetailView,
  type FleetAgentView,
  type FleetEnrollmentView,
  type FleetServerView,
  type FleetStatsView,
  type FleetSyncResult,
} from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { patternParam, uuidParam } from '../../core/http/uuid-param.js';
import { FleetEndpointsQuery, FleetQuery, FleetServersQuery } from './dto/fleet-query.dto.js';
import { FleetEnrollmentService } from './fleet-enrollment.service.js';
import { FleetSyncDto } from './dto/fleet-sync.dto.js';
import { FleetReadService } from './fleet-read.service.js';
import { FleetSyncService } from './fleet-sync.service.js';

const SOURCE_ID_PARAM = patternParam('source_id', SOURCE_ID_PATTERN, SOURCE_ID_RULE);

@ApiTags('fleet')
@ApiBearerAuth()
@Controller('fleet')
export class FleetController {
  constructor(
    private readonly syncs: FleetSyncService,
    private readonly reads: FleetReadService,
    private readonly enrollments: FleetEnrollmentService,
  ) {}

  @Post('sync')
  @HttpCode(200)
  @RequirePermission('fleet:write')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Replays return the first response' })
  @ApiOperation({ summary: "Push one endpoint's MCP inventory (idempotent by Idempotency-Key)" })
  sync(
    @CurrentPrincipal() principal: Principal,
    @Body() body: FleetSyncDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<FleetSyncResult> {
    return this.syncs.sync(principal, body, idempotencyKey);
  }

  @Get()
  @RequirePermission('fleet:read')
  @ApiOperation({
    summary: 'Fleet agents (MCP client installations) with filters, search and cursor pagination',
  })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FleetQuery,
  ): Promise<{ items: FleetAgentView[]; next_cursor: string | null }> {
    return this.reads.list(principal, query);
  }

  @Get('stats')
  @RequirePermission('fleet:read')
  stats(@CurrentPrincipal() principal: Principal): Promise<FleetStatsView> {
    return this.reads.stats(principal);
  }

  @Get('servers')
  @RequirePermission('fleet:read')
  @ApiOperation({
    summary: 'MCP servers across the fleet, with tools, auth mode, credential names and sources',
  })
  servers(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FleetServersQuery,
  ): Promise<{ items: FleetServerView[]; next_cursor: string | null }> {
    return this.reads.servers(principal, query);
  }

  @Get('endpoints')
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: 'Enrolled endpoints (admins): state, credential id, who enrolled and when' })
  endpoints(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FleetEndpointsQuery,
  ): Promise<FleetEnrollmentView[]> {
    return this.enrollments.list(principal, query);
  }

  @Post('endpoints/:source_id/revoke')
  @HttpCode(200)
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: 'Revoke an endpoint: its credential stops at once and nobody may push for it' })
  revokeEndpoint(
    @CurrentPrincipal() principal: Principal,
    @Param('source_id', SOURCE_ID_PARAM) sourceId: string,
  ): Promise<FleetEnrollmentView> {
    return this.enrollments.revoke(principal, sourceId);
  }

  @Post('endpoints/:source_id/reenroll')
  @HttpCode(200)
  @RequirePermission('keys:manage')
  @ApiOperation({
    summary: 'Retire the credential; the next push with a fleet-push key enrolls the endpoint anew',
  })
  reenrollEndpoint(
    @CurrentPrincipal() principal: Principal,
    @Param('source_id', SOURCE_ID_PARAM) sourceId: string,
  ): Promise<FleetEnrollmentView> {
    return this.enrollments.reenroll(principal, sourceId);
  }

  @Get(':id')
  @RequirePermission('fleet:read')
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', uuidParam('id')) id: string,
  ): Promise<FleetAgentDetailView> {
    return this.reads.get(principal, id);
  }
}
