import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { GatewaySubjectStanding } from '../../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { GatewaySubjectDto } from '../dto/gateway-subject.dto.js';
import { ScimService } from './scim.service.js';

/**
 * SCIM's word on an access token's person, for the gateway edge (docs/sso.md, "SCIM at the gateway"). Guarantees:
 * only the caller's own tenant is searched (the tenant comes from the key, never the body); the answer says only
 * whether the person is active, deleted and when, or unknown: no user record, no other person.
 */
@ApiTags('gateway')
@ApiBearerAuth()
@Controller('gateway/oidc-subjects')
export class GatewaySubjectsController {
  constructor(private readonly scim: ScimService) {}

  @Post()
  @HttpCode(200)
  @RequirePermission('keys:introspect')
  @ApiOperation({ summary: "SCIM's standing of an access token's person in the gateway key's tenant" })
  standing(
    @CurrentPrincipal() principal: Principal,
    @Body() body: GatewaySubjectDto,
  ): Promise<GatewaySubjectStanding> {
    return this.scim.standingForGateway(principal, body.subject, body.sub);
  }
}
