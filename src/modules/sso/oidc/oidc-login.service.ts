import { Inject, Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import type { Principal } from '../../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import type { OidcBrowserConfig, OidcIssuerConfig } from '../../../core/config/sso-config.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { LoginStatesRepository } from '../login-states.repository.js';
import { safeReturnTo } from '../return-to.js';
import { BrowserLogin } from '../browser-login.js';
import type { OpenedSession } from '../sessions/sessions.service.js';

/** How long a started login may take at the IdP. */
export const LOGIN_TTL_SECONDS = 600;

/**
 * OIDC browser login: authorization code + PKCE (S256) against the deployment-wide issuer. Guarantees:
 * - state, nonce and the PKCE verifier are random, stored server-side (shared by replicas) and consumed once;
 *   the callback must also come from the browser that started the login (a `__Host-` login cookie);
 * - the ID token is checked by openid-client (issuer, audience = client id, nonce, expiry) and mapped with the
 *   same rules as bearer tokens (tenant claim, human roles, group map); a session is opened only on success;
 * - every success and refusal is audited; the redirect target is a relative path on this origin.
 */
@Injectable()
export class OidcLoginService {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly states: LoginStatesRepository,
    private readonly login: BrowserLogin,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts a login: the IdP URL to redirect to, and the state for the login cookie. */
  async start(returnTo: unknown): Promise<{ url: string; state: string }> {
    const { browser } = this.settings();
    const configuration = await this.client();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await this.states.save(
      state,
      { kind: 'oidc', nonce, codeVerifier, requestId: null, returnTo: safeReturnTo(returnTo) },
      LOGIN_TTL_SECONDS,
    );
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: browser.redirectUri,
      scope: browser.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /** Finishes a login from the callback URL; throws UNAUTHENTICATED (audited) on any failure. */
  async finish(
    callbackUrl: URL,
    browserState: string | undefined,
    userAgent: string | undefined,
  ): Promise<{ opened: OpenedSession; returnTo: string }> {
    const { issuer } = this.settings();
    const state = callbackUrl.searchParams.get('state');
    if (!state || state.length > 128) return this.refuse(undefined, 'missing_state');
    const saved = await this.states.consume(state, 'oidc');
    if (!saved) return this.refuse(undefined, 'unknown_or_used_state');
    if (browserState !== state) return this.refuse(undefined, 'state_not_from_this_browser');
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(await this.client(), callbackUrl, {
        pkceCodeVerifier: saved.codeVerifier!,
        expectedState: state,
        expectedNonce: saved.nonce!,
        idTokenExpected: true,
        maxAge: undefined,
      });
      claims = tokens.claims();
    } catch (error) {
      return this.refuse(undefined, 'idp_refused', { error: String((error as Error).message).slice(0, 200) });
    }
    if (!claims) return this.refuse(undefined, 'no_id_token');
    const identity = await this.login.identify(
      'oidc',
      {
        tenantClaim: issuer.tenantClaim,
        roleClaim: issuer.roleClaim,
        groupsClaim: issuer.groupsClaim,
        groupRoles: issuer.groupRoles,
      },
      claims,
    );
    const actor: Principal = { ...identity, authMethod: 'oidc', keyId: null, issuer: issuer.issuer };
    const opened = await this.login.open('oidc', identity, actor, userAgent);
    return { opened, returnTo: saved.returnTo };
  }

  private refuse(
    tenantId: string | undefined,
    reason: string,
    context: Record<string, string> = {},
  ): Promise<never> {
    return this.login.refuse('oidc', tenantId, reason, context);
  }

  private settings(): { browser: OidcBrowserConfig; issuer: OidcIssuerConfig } {
    const browser = this.config.sso.oidcBrowser;
    const issuer = this.config.sso.oidc;
    if (!browser || !issuer) throw new DomainError('NOT_FOUND', 'OIDC login is not configured');
    return { browser, issuer };
  }

  private client(): Promise<client.Configuration> {
    if (!this.configuration) {
      const { browser, issuer } = this.settings();
      const server = new URL(issuer.issuer);
      this.configuration = client.discovery(
        server,
        browser.clientId,
        undefined,
        browser.clientSecret ? client.ClientSecretPost(browser.clientSecret) : client.None(),
        { execute: server.protocol === 'http:' ? [client.allowInsecureRequests] : [], timeout: 5 },
      );
      this.configuration.catch(() => (this.configuration = undefined));
    }
    return this.configuration.catch(() => {
      throw new DomainError('SERVICE_UNAVAILABLE', 'the OIDC provider cannot be reached');
    });
  }
}
