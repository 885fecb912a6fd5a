import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleHasPermission, type Permission } from '../../../libs/contracts/src/index.js';
import { DomainError } from '../errors/domain-error.js';
import { IS_PUBLIC, REQUIRED_PERMISSION } from './decorators.js';
import { PRINCIPAL_RESOLVER, type Principal, type PrincipalResolver } from './principal.js';

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

/**
 * The one global guard. Guarantees:
 * - deny by default: a route is reachable only if it is `@Public()` or declares a permission with
 *   `@RequirePermission`; a route with neither is refused for everyone (and a test fails on it);
 * - no credential, or one that does not resolve, is a 401; a valid credential without the permission is a 403;
 * - the principal (and so the tenant) comes only from the verified credential.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PRINCIPAL_RESOLVER) private readonly resolver: PrincipalResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    // Normally done already, before the body was read (see authenticate-hook.ts).
    const principal = request.principal ?? (await this.authenticate(request));
    if (!permission) throw new DomainError('FORBIDDEN', 'this route declares no permission and is closed');
    if (!roleHasPermission(principal.role, permission)) {
      throw new DomainError('FORBIDDEN', `role "${principal.role}" does not have permission "${permission}"`);
    }
    return true;
  }

  /** The principal of the presented credential, attached to the request; a 401 when there is none. */
  async authenticate(request: GuardedRequest): Promise<Principal> {
    const credential = credentialOf(request.headers);
    if (!credential) throw new DomainError('UNAUTHENTICATED', 'authentication required');
    const principal = await this.resolver.resolve(credential);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'invalid, expired or revoked credential');
    request.principal = principal;
    return principal;
  }
}

/** `Authorization: Bearer <credential>` or `X-API-Key: <credential>`. */
export function credentialOf(headers: GuardedRequest['headers']): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : undefined;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : undefined;
}
