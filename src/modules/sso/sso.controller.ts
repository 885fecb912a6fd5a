import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SsoProvidersView } from '../../../libs/contracts/src/index.js';
import { Public } from '../../core/auth/decorators.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';

@ApiTags('auth')
@Controller('auth/sso')
export class SsoController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Public, so the login page can offer the buttons; it reveals only which logins exist. */
  @Get()
  @Public()
  @ApiOperation({ summary: 'Which browser logins (OIDC, SAML) this deployment offers' })
  providers(): SsoProvidersView {
    const oidc = this.config.sso.oidcBrowser !== undefined;
    const saml = this.config.sso.saml !== undefined;
    return {
      oidc: { enabled: oidc, login_url: oidc ? '/v1/auth/oidc/login' : null },
      saml: { enabled: saml, login_url: saml ? '/v1/auth/saml/login' : null },
    };
  }
}
