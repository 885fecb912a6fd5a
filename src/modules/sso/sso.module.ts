import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '../../core/auth/auth.guard.js';
import { CREDENTIAL_RESOLVER } from '../../core/auth/principal.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { BrowserLogin } from './browser-login.js';
import { CredentialChain } from './credential-chain.js';
import { LoginAudit } from './login-audit.js';
import { GatewayOidcController } from './oidc/gateway-oidc.controller.js';
import { IssuerIndex } from './oidc/issuer-index.js';
import { OidcBearerResolver } from './oidc/oidc-bearer.resolver.js';
import { OidcIssuersController } from './oidc/oidc-issuers.controller.js';
import { OidcIssuersRepository } from './oidc/oidc-issuers.repository.js';
import { OidcIssuersService } from './oidc/oidc-issuers.service.js';
import { OidcLoginController } from './oidc/oidc-login.controller.js';
import { OidcLoginService } from './oidc/oidc-login.service.js';
import { LoginStatesRepository } from './login-states.repository.js';
import { SamlLoginController } from './saml/saml-login.controller.js';
import { SamlLoginService } from './saml/saml-login.service.js';
import { GatewaySubjectsController } from './scim/gateway-subjects.controller.js';
import { ScimGroupsService } from './scim/scim-groups.service.js';
import { ScimRoles } from './scim/scim-roles.js';
import { ScimTokenController } from './scim/scim-token.controller.js';
import { ScimController } from './scim/scim.controller.js';
import { ScimRepository } from './scim/scim.repository.js';
import { ScimService } from './scim/scim.service.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SsoController } from './sso.controller.js';

/**
 * Everything a person logs in with: browser sessions, OIDC, SAML and SCIM, and the resolver chain the global
 * guard asks. The guard is registered here because the chain depends on every login method.
 */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [
    SessionsController,
    SsoController,
    OidcIssuersController,
    GatewayOidcController,
    GatewaySubjectsController,
    OidcLoginController,
    SamlLoginController,
    ScimController,
    ScimTokenController,
  ],
  providers: [
    SessionsRepository,
    SessionsService,
    LoginAudit,
    IssuerIndex,
    OidcIssuersRepository,
    OidcBearerResolver,
    OidcIssuersService,
    LoginStatesRepository,
    BrowserLogin,
    OidcLoginService,
    SamlLoginService,
    ScimRepository,
    ScimRoles,
    ScimService,
    ScimGroupsService,
    CredentialChain,
    { provide: CREDENTIAL_RESOLVER, useExisting: CredentialChain },
    AuthGuard,
    { provide: APP_GUARD, useExisting: AuthGuard },
  ],
  exports: [SessionsService, OidcBearerResolver, AuthGuard],
})
export class SsoModule {}
