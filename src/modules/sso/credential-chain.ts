import { Inject, Injectable } from '@nestjs/common';
import {
  PRINCIPAL_RESOLVER,
  type CredentialResolver,
  type PresentedCredential,
  type Principal,
  type PrincipalResolver,
} from '../../core/auth/principal.js';
import { OidcBearerResolver } from './oidc/oidc-bearer.resolver.js';
import { ScimService } from './scim/scim.service.js';
import { SessionsService } from './sessions/sessions.service.js';

/** Three dot-separated base64url parts: the shape of a JWS compact serialisation. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

export function looksLikeJwt(credential: string): boolean {
  return JWT_SHAPE.test(credential);
}

/**
 * The one decision point behind the global guard. Guarantees:
 * - a session cookie is resolved only against stored, live sessions;
 * - a JWT-shaped bearer is decided by the OIDC verifier alone: if it fails it is a 401 and never reaches the
 *   API-key lookup (so a forged token cannot be "retried" as something else);
 * - a `scim_` bearer is a tenant's SCIM token (good only for `/scim/v2`); any other bearer is an API key.
 */
@Injectable()
export class CredentialChain implements CredentialResolver {
  constructor(
    private readonly sessions: SessionsService,
    private readonly oidc: OidcBearerResolver,
    private readonly scim: ScimService,
    @Inject(PRINCIPAL_RESOLVER) private readonly keys: PrincipalResolver,
  ) {}

  /**
   * The same dispatch as `resolve`, answered from memory only for an API key verified before and still fresh;
   * sessions, JWTs and SCIM tokens always go through `resolve`.
   */
  cached(credential: PresentedCredential): Principal | undefined {
    if (credential.kind === 'session') return undefined;
    if (looksLikeJwt(credential.value)) return undefined;
    if (credential.value.startsWith('scim_')) return undefined;
    return this.keys.cached?.(credential.value);
  }

  resolve(credential: PresentedCredential): Promise<Principal | undefined> {
    if (credential.kind === 'session') return this.sessions.resolve(credential.value);
    if (looksLikeJwt(credential.value)) return this.oidc.resolve(credential.value);
    if (credential.value.startsWith('scim_')) return this.scim.resolveToken(credential.value);
    return this.keys.resolve(credential.value);
  }
}
