import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { permissionsOf, type MeView } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import type { Principal } from '../../core/auth/principal.js';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/me')
export class MeController {
  @Get()
  @RequirePermission('me:read')
  @ApiOperation({ summary: 'Who the presented credential is: tenant, role, permissions' })
  me(@CurrentPrincipal() principal: Principal): MeView {
    return {
      tenant_id: principal.tenantId,
      role: principal.role,
      subject: principal.subject,
      auth_method: 'api_key',
      key_id: principal.keyId,
      permissions: permissionsOf(principal.role),
    };
  }
}
