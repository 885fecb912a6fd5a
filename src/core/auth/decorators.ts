import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Permission } from '../../../libs/contracts/src/index.js';
import type { Principal } from './principal.js';

export const IS_PUBLIC = 'agent-bom:public';
export const REQUIRED_PERMISSION = 'agent-bom:permission';

/** Opts a route out of authentication. Use only for health, metrics and login entry points. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Declares the one permission a route needs. Every non-public route must carry exactly one. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/** The authenticated principal the guard attached to the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route the guard did not authenticate');
  return principal;
});
