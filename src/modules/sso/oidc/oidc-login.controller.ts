import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../../core/auth/decorators.js';
import {
  clearLoginCookie,
  loginStateOf,
  setLoginCookie,
  setSessionCookie,
} from '../../../core/auth/session-cookie.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { LOGIN_TTL_SECONDS, OidcLoginService } from './oidc-login.service.js';

@ApiTags('auth')
@Controller('auth/oidc')
export class OidcLoginController {
  constructor(
    private readonly login: OidcLoginService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Public: starts a browser login at the IdP. `return_to` must be a relative path (anything else means `/`). */
  @Get('login')
  @Public()
  @ApiOperation({ summary: 'Start an OIDC browser login (authorization code + PKCE); redirects to the IdP' })
  async start(@Query('return_to') returnTo: unknown, @Res() reply: FastifyReply): Promise<void> {
    const { url, state } = await this.login.start(returnTo);
    void reply.header('set-cookie', setLoginCookie(state, LOGIN_TTL_SECONDS)).redirect(url, 302);
  }

  /** Public: the IdP's redirect back. Opens a session, sets the cookie and redirects to the saved `return_to`. */
  @Get('callback')
  @Public()
  @ApiOperation({ summary: 'OIDC redirect URI: finishes the login, sets the session cookie, redirects' })
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const redirectUri = this.config.sso.oidcBrowser?.redirectUri;
    if (!redirectUri) throw new DomainError('NOT_FOUND', 'OIDC login is not configured');
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    if (query.length > 8192) throw new DomainError('VALIDATION_ERROR', 'callback query too long');
    // The callback URL is rebuilt from configuration, never from the Host header.
    const callbackUrl = new URL(redirectUri);
    callbackUrl.search = query;
    const cookie = request.headers.cookie;
    const { opened, returnTo } = await this.login.finish(
      callbackUrl,
      loginStateOf(typeof cookie === 'string' ? cookie : undefined),
      request.headers['user-agent'],
    );
    void reply
      .header('set-cookie', [
        setSessionCookie(opened.secret, opened.principal.session!.expiresAt),
        clearLoginCookie(),
      ])
      .redirect(returnTo, 302);
  }
}
