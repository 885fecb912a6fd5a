import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { MeView } from '../../../libs/contracts/src/index.js';
import { CurrentPrincipal, RequirePermission } from '../../core/auth/decorators.js';
import { meViewOf } from '../../core/auth/me-view.js';
import type { Principal } from '../../core/auth/principal.js';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/me')
export class MeController {
  @Get()
  @RequirePermission('me:read')
  @ApiOperation({
    summary: 'Who the presented credential is: tenant, role, permissions, how it authenticated',
  })
  me(@CurrentPrincipal() principal: Principal): MeView {
    return meViewOf(principal);
  }
}
