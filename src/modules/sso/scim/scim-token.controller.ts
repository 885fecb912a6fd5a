import { Controller, Delete, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { ScimService } from './scim.service.js';

@ApiTags('sso')
@ApiBearerAuth()
@Controller('auth/scim-token')
export class ScimTokenController {
  constructor(private readonly scim: ScimService) {}

  @Post()
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: "Create (or replace) your tenant's SCIM token for the IdP; shown once" })
  create(@CurrentPrincipal() principal: Principal): Promise<{ token: string }> {
    return this.scim.createToken(principal);
  }

  @Delete()
  @HttpCode(204)
  @RequirePermission('keys:manage')
  @ApiOperation({ summary: "Revoke your tenant's SCIM token" })
  revoke(@CurrentPrincipal() principal: Principal): Promise<void> {
    return this.scim.revokeToken(principal);
  }
}
