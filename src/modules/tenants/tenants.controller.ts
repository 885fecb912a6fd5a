import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { CreateTenantDto, ListTenantsQuery } from './dto/tenants.dto.js';
import { TenantsService } from './tenants.service.js';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @RequirePermission('tenants:manage')
  @ApiOperation({ summary: 'Create a tenant (platform admin)' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateTenantDto) {
    return this.tenants.create(principal, body);
  }

  @Get()
  @RequirePermission('tenants:manage')
  @ApiOperation({ summary: 'List tenants (platform admin)' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListTenantsQuery) {
    return this.tenants.list(principal, query);
  }
}
