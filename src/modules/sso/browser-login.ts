import { Injectable } from '@nestjs/common';
import { mapClaims, OidcRefused, type ClaimMapping } from '../../../libs/oidc/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { LoginAudit } from './login-audit.js';
import { IssuerIndex } from './oidc/issuer-index.js';
import { OidcIssuersRepository } from './oidc/oidc-issuers.repository.js';
import { ScimService } from './scim/scim.service.js';
import { isSessionRole } from './sessions/session-roles.js';
import { SessionsService, type OpenedSession } from './sessions/sessions.service.js';

/** Who logs in; `sub` (the IdP's user id: OIDC `sub`, SAML NameID) is matched exactly to SCIM's externalId. */
export type Identity = Pick<Principal, 'tenantId' | 'role' | 'subject'> & { sub?: string };
type Method = 'oidc' | 'saml';

const LABEL: Record<Method, string> = { oidc: 'OIDC', saml: 'SAML' };

/**
 * The end shared by the OIDC and SAML browser logins: claims → identity (deployment-wide mapping rules, the tenant
 * must exist and have no issuer of its own), SCIM's say (deactivated → refused; groups → role), then the session.
 * Every refusal is audited in the tenant it was aimed at and thrown as a 401.
 */
@Injectable()
export class BrowserLogin {
  constructor(
    private readonly index: IssuerIndex,
    private readonly tenants: OidcIssuersRepository,
    private readonly loginAudit: LoginAudit,
    private readonly scim: ScimService,
    private readonly sessions: SessionsService,
  ) {}

  async identify(method: Method, mapping: ClaimMapping, claims: Record<string, unknown>): Promise<Identity> {
    try {
      const identity = mapClaims(mapping, claims);
      if (await this.index.hasOwnIssuer(identity.tenantId)) throw new OidcRefused('tenant_not_bound');
      if (!(await this.tenants.tenantExists(identity.tenantId))) throw new OidcRefused('unknown_tenant');
      const sub = typeof claims.sub === 'string' && claims.sub.length <= 256 ? claims.sub : undefined;
      return { ...identity, sub };
    } catch (error) {
      if (!(error instanceof OidcRefused)) throw error;
      const claimed = claims[mapping.tenantClaim];
      const tenant =
        typeof claimed === 'string' && (await this.tenants.tenantExists(claimed).catch(() => false))
          ? claimed
          : undefined;
      return this.refuse(method, tenant, error.reason, { subject: String(claims.sub).slice(0, 200) });
    }
  }

  async open(
    method: Method,
    identity: Identity,
    actor: Principal,
    userAgent: string | undefined,
  ): Promise<OpenedSession> {
    if (!isSessionRole(identity.role)) {
      return this.refuse(method, identity.tenantId, 'role_not_grantable', { subject: identity.subject });
    }
    // SCIM owns the lifecycle: a deactivated person gets no session; their groups decide the role.
    const scim = await this.scim.atLogin(identity.tenantId, identity.subject, identity.sub, identity.role);
    if (scim === 'deactivated') {
      return this.refuse(method, identity.tenantId, 'user_deactivated', { subject: identity.subject });
    }
    return this.sessions.open(
      {
        tenantId: identity.tenantId,
        subject: identity.subject,
        role: scim.role,
        via: method,
        keyId: null,
        userId: scim.userId,
      },
      actor,
      userAgent,
    );
  }

  async refuse(
    method: Method,
    tenantId: string | undefined,
    reason: string,
    context: Record<string, string> = {},
  ): Promise<never> {
    await this.loginAudit.refused(tenantId, method, reason, context);
    throw new DomainError('UNAUTHENTICATED', `${LABEL[method]} login refused: ${reason}`);
  }
}
