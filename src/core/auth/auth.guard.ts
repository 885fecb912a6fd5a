import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleHasPermission, type Permission } from '../../../libs/contracts/src/index.js';
import { DomainError } from '../errors/domain-error.js';
import { IS_PUBLIC, REQUIRED_PERMISSION } from './decorators.js';
import {
  CREDENTIAL_RESOLVER,
  type CredentialResolver,
  type PresentedCredential,
  type Principal,
} from './principal.js';
import { CSRF_HEADER, csrfMatches, sessionSecretOf } from './session-cookie.js';

interface GuardedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one global guard. Guarantees:
 * - deny by default: a route is reachable only if it is `@Public()` or declares a permission with
 *   `@RequirePermission`; a route with neither is refused for everyone (and a test fails on it);
 * - no credential, or one that does not resolve, is a 401; a valid credential without the permission is a 403;
 * - a bearer (`Authorization` / `X-API-Key`) wins over a session cookie; a cookie-authenticated unsafe request
 *   (POST/PUT/PATCH/DELETE) must echo the session's CSRF token in `x-csrf-token`, otherwise 403
 *   `CSRF_TOKEN_INVALID`;
 * - a SCIM token reaches only `scim:provision` routes, which nothing else reaches;
 * - the principal (and so the tenant) comes only from the verified credential.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CREDENTIAL_RESOLVER) private readonly resolver: CredentialResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    // Normally done already, before the body was read (see authenticate-hook.ts).
    const principal = request.principal ?? (await this.authenticate(request));
    if (!permission) throw new DomainError('FORBIDDEN', 'this route declares no permission and is closed');
    // A SCIM token reaches the SCIM routes and nothing else; nothing else reaches the SCIM routes.
    if ((principal.authMethod === 'scim') !== (permission === 'scim:provision')) {
      throw new DomainError('FORBIDDEN', `this credential cannot use a route that needs "${permission}"`);
    }
    if (principal.authMethod !== 'scim' && !roleHasPermission(principal.role, permission)) {
      throw new DomainError('FORBIDDEN', `role "${principal.role}" does not have permission "${permission}"`);
    }
    return true;
  }

  /**
   * The principal of the presented credential (bearer, else session cookie), attached to the request; a 401 when
   * there is none; a 403 `CSRF_TOKEN_INVALID` for a cookie-authenticated unsafe request without the CSRF token.
   */
  async authenticate(request: GuardedRequest): Promise<Principal> {
    const credential = presentedCredential(request.headers);
    if (!credential) throw new DomainError('UNAUTHENTICATED', 'authentication required');
    const principal = await this.resolver.resolve(credential);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'invalid, expired or revoked credential');
    return this.admit(request, principal);
  }

  /**
   * `authenticate` when the resolver can answer from memory (`CredentialResolver.cached`: an API key verified
   * before and still fresh), synchronously; undefined when `authenticate` must run. Same checks, same principal.
   */
  authenticateCached(request: GuardedRequest): Principal | undefined {
    const credential = presentedCredential(request.headers);
    const principal = credential && this.resolver.cached?.(credential);
    return principal ? this.admit(request, principal) : undefined;
  }

  /** The CSRF check of a cookie-authenticated unsafe request, then the principal attached to the request. */
  private admit(request: GuardedRequest, principal: Principal): Principal {
    if (
      principal.session &&
      !SAFE_METHODS.has(request.method.toUpperCase()) &&
      !csrfMatches(request.headers[CSRF_HEADER], principal.session.csrfToken)
    ) {
      throw new DomainError(
        'CSRF_TOKEN_INVALID',
        `a session request with ${request.method} needs ${CSRF_HEADER}`,
      );
    }
    request.principal = principal;
    return principal;
  }
}

/** A bearer if one is presented (even a malformed one: it is then refused, never replaced by the cookie). */
export function presentedCredential(headers: GuardedRequest['headers']): PresentedCredential | undefined {
  if (headers.authorization !== undefined || headers['x-api-key'] !== undefined) {
    const value = credentialOf(headers);
    return value ? { kind: 'bearer', value } : undefined;
  }
  const cookie = headers.cookie;
  const secret = sessionSecretOf(typeof cookie === 'string' ? cookie : undefined);
  return secret ? { kind: 'session', value: secret } : undefined;
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
