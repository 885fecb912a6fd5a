import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { DiscoveryService } from './discovery.service.js';

@ApiTags('discovery')
@ApiBearerAuth()
@Controller('gateway/upstreams')
export class DiscoveryController {
  constructor(private readonly discovery: DiscoveryService) {}

  @Get('discovered')
  @RequirePermission('discovery:read')
  @ApiOperation({ summary: 'Remote MCP upstreams (http, https, sse) seen in the fleet, with stable names' })
  discovered(@CurrentPrincipal() principal: Principal) {
    return this.discovery.discovered(principal);
  }
}
