import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { permissionsOf } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';
import { IntrospectDto } from './dto/introspect.dto.js';
import { KeyAuthenticator } from './key-authenticator.js';

/**
 * `POST /v1/auth/introspect` (RFC 7662 in spirit): a gateway asks whether a key a client presented is valid.
 * Guarantees: the answer is `{active: true, …}` only for a usable key of the **caller's own tenant**; a key of
 * another tenant, or an unknown, revoked or expired one, is `{active: false}` with nothing else, so a gateway
 * credential can neither confirm that another tenant's key exists nor serve it.
 */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/introspect')
export class IntrospectController {
  constructor(private readonly authenticator: KeyAuthenticator) {}

  @Post()
  @HttpCode(200)
  @RequirePermission('keys:introspect')
  @ApiOperation({
    summary: "Whether a client's API key is valid in your tenant, and its role (gateway keys)",
  })
  async introspect(@CurrentPrincipal() caller: Principal, @Body() body: IntrospectDto) {
    const subject = await this.authenticator.resolveInTenant(body.token, caller.tenantId);
    if (!subject || subject.tenantId !== caller.tenantId) return { active: false };
    return {
      active: true,
      tenant_id: subject.tenantId,
      role: subject.role,
      subject: subject.subject,
      key_id: subject.keyId,
      permissions: permissionsOf(subject.role),
    };
  }
}
