import { Module } from '@nestjs/common';
import { PRINCIPAL_RESOLVER } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { AuditModule } from '../audit/audit.module.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { IntrospectController } from './introspect.controller.js';
import { KeyAuthenticator } from './key-authenticator.js';
import { KeyCache } from './key-cache.js';
import { KeysController } from './keys.controller.js';
import { MeController } from './me.controller.js';

@Module({
  imports: [AuditModule],
  controllers: [KeysController, MeController, IntrospectController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    KeyAuthenticator,
    {
      provide: KeyCache,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new KeyCache(config.authCacheTtlSeconds * 1000),
    },
    { provide: PRINCIPAL_RESOLVER, useExisting: KeyAuthenticator },
  ],
  // The global guard and its resolver chain live in SsoModule, which asks PRINCIPAL_RESOLVER for API keys.
  exports: [ApiKeysService, PRINCIPAL_RESOLVER],
})
export class AuthModule {}
