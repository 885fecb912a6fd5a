import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { patternParam } from '../../../core/http/uuid-param.js';
import { TENANT_ID_PATTERN } from '../../../../libs/contracts/src/index.js';
import { BindOidcIssuerDto } from '../dto/oidc-issuer.dto.js';
import { OidcIssuersService, type OidcIssuerView } from './oidc-issuers.service.js';

/** `@Param('tenantId', tenantIdParam)`: a malformed tenant id is a 400 naming the field. */
const tenantIdParam = patternParam('tenantId', TENANT_ID_PATTERN, 'is not a tenant id');

@ApiTags('sso')
@ApiBearerAuth()
@Controller('tenants/:tenantId/oidc')
export class OidcIssuersController {
  constructor(private readonly issuers: OidcIssuersService) {}

  @Get()
  @RequirePermission('tenants:manage')
  @ApiOperation({ summary: "A tenant's own OIDC issuer (platform admin)" })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', tenantIdParam) tenantId: string,
  ): Promise<OidcIssuerView> {
    return this.issuers.get(principal, tenantId);
  }

  @Put()
  @RequirePermission('tenants:manage')
  @ApiOperation({
    summary: 'Bind a tenant to its own OIDC issuer (platform admin); replaces any previous one',
  })
  bind(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', tenantIdParam) tenantId: string,
    @Body() body: BindOidcIssuerDto,
  ): Promise<OidcIssuerView> {
    return this.issuers.bind(principal, tenantId, body);
  }

  @Delete()
  @HttpCode(204)
  @RequirePermission('tenants:manage')
  @ApiOperation({ summary: "Remove a tenant's OIDC issuer binding (platform admin)" })
  unbind(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', tenantIdParam) tenantId: string,
  ): Promise<void> {
    return this.issuers.unbind(principal, tenantId);
  }
}
