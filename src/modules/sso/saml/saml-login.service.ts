import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SAML, ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/passport-saml';
import type { Principal } from '../../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import type { SamlConfig } from '../../../core/config/sso-config.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { LoginStatesRepository } from '../login-states.repository.js';
import { OidcIssuersRepository } from '../oidc/oidc-issuers.repository.js';
import { safeReturnTo } from '../return-to.js';
import { BrowserLogin } from '../browser-login.js';
import type { OpenedSession } from '../sessions/sessions.service.js';

/** How long a started SAML login may take at the IdP. */
const LOGIN_TTL_SECONDS = 600;
/** Assertions older than this (from IssueInstant) are refused; replay records outlive it. */
const MAX_ASSERTION_AGE_MS = 3600_000;
const REPLAY_RECORD_MS = 2 * MAX_ASSERTION_AGE_MS;

/** The one request id a response may answer: the id bound to the RelayState it came back with. */
class OneRequestCache implements CacheProvider {
  constructor(private readonly requestId: string) {}
  saveAsync(): Promise<null> {
    return Promise.resolve(null);
  }
  getAsync(key: string): Promise<string | null> {
    // node-saml reads the value as the request's creation time; the RelayState row being live bounds its age.
    return Promise.resolve(key === this.requestId ? new Date().toISOString() : null);
  }
  removeAsync(): Promise<string | null> {
    return Promise.resolve(null);
  }
}

/**
 * SAML 2.0 SP (node-saml, as used by `@node-saml/passport-saml`): SP-initiated login with the HTTP-POST ACS.
 * Guarantees:
 * - only assertions signed (XML-DSig) by the configured IdP certificate are read; audience, recipient/destination,
 *   issuer, time conditions (60 s skew) and `InResponseTo` (= the request bound to this RelayState) are checked;
 * - RelayState is random, stored server-side (shared by replicas) and consumed once; an assertion id is accepted
 *   once across replicas; an assertion containing an XML comment (NameID comment injection) is refused;
 * - attributes map to tenant and role with the OIDC rules (human roles, group map); every success and refusal is
 *   audited, and a session is opened only on success.
 */
@Injectable()
export class SamlLoginService {
  constructor(
    private readonly states: LoginStatesRepository,
    private readonly tenants: OidcIssuersRepository,
    private readonly login: BrowserLogin,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  metadata(): string {
    return this.saml(this.settings(), '_unused').generateServiceProviderMetadata(null, null);
  }

  /** The IdP URL (HTTP-Redirect binding) for a new login. */
  async start(returnTo: unknown): Promise<string> {
    const settings = this.settings();
    const requestId = `_${randomUUID()}`;
    const relayState = randomBytes(32).toString('base64url');
    await this.states.save(
      relayState,
      { kind: 'saml', nonce: null, codeVerifier: null, requestId, returnTo: safeReturnTo(returnTo) },
      LOGIN_TTL_SECONDS,
    );
    return this.saml(settings, requestId).getAuthorizeUrlAsync(relayState, undefined, {});
  }

  async acs(
    body: unknown,
    userAgent: string | undefined,
  ): Promise<{ opened: OpenedSession; returnTo: string }> {
    const settings = this.settings();
    const form = (body ?? {}) as Record<string, unknown>;
    const samlResponse = form.SAMLResponse;
    const relayState = form.RelayState;
    if (typeof samlResponse !== 'string' || samlResponse.length === 0)
      return this.refuse(undefined, 'missing_response');
    if (typeof relayState !== 'string' || relayState.length === 0 || relayState.length > 128) {
      return this.refuse(undefined, 'missing_relay_state');
    }
    const aimedAt = await this.aimedAt(samlResponse, settings);
    const saved = await this.states.consume(relayState, 'saml');
    if (!saved) return this.refuse(aimedAt, 'unknown_or_used_relay_state');

    let profile: Profile;
    try {
      const result = await this.saml(settings, saved.requestId!).validatePostResponseAsync({
        SAMLResponse: samlResponse,
      });
      if (!result.profile) throw new Error('no profile');
      profile = result.profile;
    } catch (error) {
      return this.refuse(aimedAt, 'invalid_response', {
        error: String((error as Error).message).slice(0, 200),
      });
    }
    const assertionXml = profile.getAssertionXml?.() ?? '';
    // Signatures ignore comments (exclusive c14n), so `alice@corp.example<!---->.evil.example` keeps a valid
    // signature while a careless reader sees another user. IdPs emit no comments: any comment is refused.
    if (Buffer.from(samlResponse, 'base64').toString('utf8').includes('<!--')) {
      return this.refuse(aimedAt, 'comment_in_assertion');
    }
    const recipient = /Recipient="([^"]*)"/.exec(assertionXml)?.[1];
    if (recipient !== settings.acsUrl) return this.refuse(aimedAt, 'wrong_recipient');
    const responseXml = profile.getSamlResponseXml?.() ?? '';
    const destination = /<(?:\w+:)?Response\b[^>]*\bDestination="([^"]*)"/.exec(responseXml)?.[1];
    if (destination !== undefined && destination !== settings.acsUrl)
      return this.refuse(aimedAt, 'wrong_destination');

    const assertionId = /<(?:\w+:)?Assertion\b[^>]*\bID="([^"]+)"/.exec(assertionXml)?.[1];
    if (!assertionId) return this.refuse(aimedAt, 'invalid_response');

    const claims = {
      sub: profile.nameID,
      email: typeof profile.email === 'string' ? profile.email : undefined,
      [settings.tenantAttribute]: profile[settings.tenantAttribute],
      [settings.roleAttribute]: profile[settings.roleAttribute],
      [settings.groupsAttribute]: asArray(profile[settings.groupsAttribute]),
    };
    const identity = await this.login.identify(
      'saml',
      {
        tenantClaim: settings.tenantAttribute,
        roleClaim: settings.roleAttribute,
        groupsClaim: settings.groupsAttribute,
        groupRoles: settings.groupRoles,
      },
      claims,
    );
    if (!(await this.states.consumeAssertion(assertionId, new Date(Date.now() + REPLAY_RECORD_MS)))) {
      return this.refuse(identity.tenantId, 'replayed_assertion', { subject: identity.subject });
    }
    const actor: Principal = { ...identity, authMethod: 'session', keyId: null };
    const opened = await this.login.open('saml', identity, actor, userAgent);
    return { opened, returnTo: saved.returnTo };
  }

  /**
   * For auditing a refusal only: the existing tenant the (unverified) response names, so its admins see attempts
   * at their tenant. Never used to decide anything; refusals are rate limited per tenant.
   */
  private async aimedAt(samlResponse: string, settings: SamlConfig): Promise<string | undefined> {
    if (samlResponse.length > 700_000) return undefined;
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    const name = settings.tenantAttribute.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(
      `Name="${name}"[^>]*>\\s*<(?:\\w+:)?AttributeValue[^>]*>([a-z0-9-]{1,63})<`,
    ).exec(xml);
    if (!match) return undefined;
    return (await this.tenants.tenantExists(match[1]).catch(() => false)) ? match[1] : undefined;
  }

  private saml(settings: SamlConfig, requestId: string): SAML {
    return new SAML({
      callbackUrl: settings.acsUrl,
      entryPoint: settings.idpSsoUrl,
      issuer: settings.spEntityId,
      audience: settings.spEntityId,
      idpIssuer: settings.idpEntityId,
      idpCert: settings.idpCert,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: 60_000,
      maxAssertionAgeMs: MAX_ASSERTION_AGE_MS,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: LOGIN_TTL_SECONDS * 1000,
      cacheProvider: new OneRequestCache(requestId),
      generateUniqueId: () => requestId,
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
  }

  private settings(): SamlConfig {
    const saml = this.config.sso.saml;
    if (!saml) throw new DomainError('NOT_FOUND', 'SAML login is not configured');
    return saml;
  }

  private refuse(
    tenantId: string | undefined,
    reason: string,
    context: Record<string, string> = {},
  ): Promise<never> {
    return this.login.refuse('saml', tenantId, reason, context);
  }
}

function asArray(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : undefined;
}
