import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  UPSTREAM_NAME,
  UPSTREAM_NAME_RULE,
  type ApprovalView,
  type AutoApproveView,
  type DiscoveryAnswer,
} from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { DiscoveryService } from './discovery.service.js';
import { patternParam } from '../../core/http/uuid-param.js';
import { SetApprovalDto, SetAutoApproveDto } from './dto/approval.dto.js';
import { UpstreamApprovalService } from './upstream-approval.service.js';

const NAME_PARAM = patternParam('name', UPSTREAM_NAME, UPSTREAM_NAME_RULE);

@ApiTags('discovery')
@ApiBearerAuth()
@Controller('gateway/upstreams')
export class DiscoveryController {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly approvals: UpstreamApprovalService,
  ) {}

  @Get('discovered')
  @RequirePermission('discovery:read')
  @ApiOperation({ summary: 'Remote MCP upstreams (http, https, sse) seen in the fleet, with stable names' })
  discovered(@CurrentPrincipal() principal: Principal): Promise<DiscoveryAnswer> {
    return this.discovery.discovered(principal);
  }

  @Get('auto-approve')
  @RequirePermission('upstreams:approve')
  @ApiOperation({ summary: "The tenant's auto-approve host list (admins)" })
  autoApprove(@CurrentPrincipal() principal: Principal): Promise<AutoApproveView> {
    return this.approvals.autoApprove(principal);
  }

  @Put('auto-approve')
  @RequirePermission('upstreams:approve')
  @ApiOperation({
    summary: 'Replace the host list whose discovered upstreams are approved without a decision',
  })
  setAutoApprove(
    @CurrentPrincipal() principal: Principal,
    @Body() body: SetAutoApproveDto,
  ): Promise<AutoApproveView> {
    return this.approvals.setAutoApprove(principal, body.hosts);
  }

  @Get(':name/approval')
  @RequirePermission('upstreams:approve')
  @ApiOperation({ summary: "A discovered upstream's approval: state, reason, who and when" })
  approval(
    @CurrentPrincipal() principal: Principal,
    @Param('name', NAME_PARAM) name: string,
  ): Promise<ApprovalView> {
    return this.approvals.get(principal, name);
  }

  @Put(':name/approval')
  @RequirePermission('upstreams:approve')
  @ApiOperation({ summary: 'Approve, block or reset to pending a discovered upstream (audited)' })
  setApproval(
    @CurrentPrincipal() principal: Principal,
    @Param('name', NAME_PARAM) name: string,
    @Body() body: SetApprovalDto,
  ): Promise<ApprovalView> {
    return this.approvals.set(principal, name, body);
  }
}
