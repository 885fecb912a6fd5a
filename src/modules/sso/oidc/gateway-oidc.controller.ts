import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { GatewayOidcAnswer } from '../../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../../core/auth/decorators.js';
import type { Principal } from '../../../core/auth/principal.js';
import { OidcIssuersService } from './oidc-issuers.service.js';

/**
 * What a gateway needs to accept OIDC access tokens for its key's tenant (docs/gateway.md, "OIDC access tokens").
 * Guarantees: only the caller's own tenant is answered (the tenant comes from the key); a tenant with its own issuer
 * gets that issuer alone, never the deployment-wide one (which cannot mint it, as on the control plane); no secret
 * is in the answer (issuers, JWKS URIs and claim names are public facts of an IdP).
 */
@ApiTags('gateway')
@ApiBearerAuth()
@Controller('gateway/oidc-issuers')
export class GatewayOidcController {
  constructor(private readonly issuers: OidcIssuersService) {}

  @Get()
  @RequirePermission('keys:introspect')
  @ApiOperation({ summary: "The OIDC issuers a gateway accepts access tokens of, for its key's tenant" })
  get(@CurrentPrincipal() principal: Principal): Promise<GatewayOidcAnswer> {
    return this.issuers.forGateway(principal);
  }
}
