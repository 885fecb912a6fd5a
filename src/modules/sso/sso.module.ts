import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '../../core/auth/auth.guard.js';
import { CREDENTIAL_RESOLVER } from '../../core/auth/principal.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { CredentialChain } from './credential-chain.js';
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
  controllers: [SessionsController, SsoController],
  providers: [
    SessionsRepository,
    SessionsService,
    CredentialChain,
    { provide: CREDENTIAL_RESOLVER, useExisting: CredentialChain },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [SessionsService],
})
export class SsoModule {}
