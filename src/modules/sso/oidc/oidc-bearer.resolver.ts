import { Inject, Injectable } from '@nestjs/common';
import { decodeJwt, type JWTPayload } from 'jose';
import { mapClaims, OidcRefused, OidcTokenVerifier, scimRefusalOf } from '../../../../libs/oidc/src/index.js';
import type { AuditDetailValue } from '../../../../libs/contracts/src/index.js';
import type { Principal } from '../../../core/auth/principal.js';
import { cacheDigest } from '../../auth/key-secret.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { LoginAudit } from '../login-audit.js';
import { ScimRepository, type ScimStanding } from '../scim/scim.repository.js';
import { IssuerIndex } from './issuer-index.js';
import { OidcIssuersRepository } from './oidc-issuers.repository.js';

/**
 * OIDC bearer JWTs → principals, behind the global guard. Guarantees, on top of {@link OidcTokenVerifier}:
 * - the tenant is the issuer's bound tenant, or (deployment-wide issuer) the tenant claim naming an existing
 *   tenant that has no issuer of its own;
 * - the role is a human role from the role claim, or what the operator's group map says; never `platform-admin` or a
 *   machine role from the token itself;
 * - with `AGENT_BOM_OIDC_ONE_TIME_JTI`, a `jti` is accepted once across all replicas (PostgreSQL);
 * - a subject SCIM deactivated, or deleted after the token was issued, is refused: at once on the replica that took
 *   the SCIM call ({@link forgetTenant}), within the auth cache TTL on the others;
 * - every refusal is undefined to the guard (a 401, never a fall-through to API keys) and audited with its reason.
 */
@Injectable()
export class OidcBearerResolver {
  readonly verifier: OidcTokenVerifier;
  private readonly knownTenants = new Map<string, number>();
  /** Verified tokens (by SHA-256, never the token) → principal, until min(exp, now + auth cache TTL). */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  /**
   * SCIM's say on a (tenant, subject), read at most once per auth cache TTL: fresh tokens of one person share it. A
   * tenant without SCIM users is remembered under its id alone, so its tokens cost no query at all.
   */
  private readonly standings = new Map<string, { standing: ScimStanding; until: number }>();
  /** Bumped by every forget: a check that began before it is not cached (it may have read the old state). */
  private generation = 0;

  constructor(
    private readonly index: IssuerIndex,
    private readonly repository: OidcIssuersRepository,
    private readonly loginAudit: LoginAudit,
    private readonly scim: ScimRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.verifier = new OidcTokenVerifier({
      trustOf: (issuer) => this.index.get(issuer)?.trust,
      jwksCacheSeconds: config.sso.oidcJwksCacheSeconds,
    });
  }

  async resolve(token: string): Promise<Principal | undefined> {
    // A token is immutable: once verified it is reused for at most the auth cache TTL (the same bound on key
    // rotation and binding changes as API keys have), never past its exp. One-time jti mode checks every use.
    const useCache = !this.config.sso.oidcOneTimeJti && this.config.authCacheTtlSeconds > 0;
    const digest = useCache ? cacheDigest(token) : '';
    if (useCache) {
      const hit = this.verified.get(digest);
      if (hit && hit.until > Date.now()) return hit.principal;
      if (hit) this.verified.delete(digest);
    }
    const generation = this.generation;
    try {
      const { principal, stateUntil } = await this.principalOf(token);
      if (useCache && generation === this.generation) {
        const exp = (decodeOrNull(token)?.exp ?? 0) * 1000;
        if (this.verified.size >= 10_000) this.verified.clear();
        // Never past the SCIM state it was checked against: deprovisioning stays bounded by one TTL.
        this.verified.set(digest, { principal, until: Math.min(exp, stateUntil) });
      }
      return principal;
    } catch (error) {
      if (!(error instanceof OidcRefused)) throw error;
      const context: Record<string, AuditDetailValue> = this.context(token);
      let tenant = await this.attributedTenant(token);
      if (!tenant) {
        tenant = await this.unattributedTenant(token);
        if (tenant) context.unattributed = true;
      }
      await this.loginAudit.refused(tenant, 'oidc', error.reason, context);
      return undefined;
    }
  }

  /** Verifies, maps and asks SCIM (whose answer is good until `stateUntil`); throws {@link OidcRefused}. */
  private async principalOf(token: string): Promise<{ principal: Principal; stateUntil: number }> {
    const claims = decodeOrNull(token);
    if (claims && typeof claims.iss === 'string') await this.index.lookup(claims.iss);
    const { trust, claims: verified } = await this.verifier.verify(token);
    const trusted = this.index.get(trust.issuer);
    if (!trusted) throw new OidcRefused('unknown_issuer');
    const identity = mapClaims(trusted.mapping, verified);
    if (!trusted.mapping.boundTenant && (await this.index.hasOwnIssuer(identity.tenantId))) {
      throw new OidcRefused('tenant_not_bound');
    }
    if (!(await this.tenantExists(identity.tenantId))) throw new OidcRefused('unknown_tenant');
    if (this.config.sso.oidcOneTimeJti) {
      if (typeof verified.jti !== 'string' || verified.jti.length === 0 || verified.jti.length > 256) {
        throw new OidcRefused('missing_claim', 'jti');
      }
      const until = new Date((verified.exp! + 60) * 1000);
      if (!(await this.repository.consumeJti(trust.issuer, verified.jti, until))) {
        throw new OidcRefused('replayed_jti');
      }
    }
    const sub = typeof verified.sub === 'string' && verified.sub.length <= 256 ? verified.sub : null;
    const stateUntil = await this.checkScim(identity.tenantId, identity.subject, sub, verified.iat!);
    const principal: Principal = {
      tenantId: identity.tenantId,
      role: identity.role,
      subject: identity.subject,
      authMethod: 'oidc',
      keyId: null,
      issuer: trust.issuer,
    };
    return { principal, stateUntil };
  }

  /** Drops every verified token (an issuer binding changed on this replica). */
  forgetVerified(): void {
    this.generation += 1;
    this.verified.clear();
    this.standings.clear();
  }

  /** Drops the tenant's verified tokens (SCIM deactivated or deleted someone there, on this replica). */
  forgetTenant(tenantId: string): void {
    this.generation += 1;
    for (const [digest, entry] of this.verified) {
      if (entry.principal.tenantId === tenantId) this.verified.delete(digest);
    }
    this.standings.delete(tenantId);
    for (const key of this.standings.keys()) if (key.startsWith(`${tenantId}\n`)) this.standings.delete(key);
  }

  /**
   * The subject (as for browser logins: email, else preferred_username, else sub) matched case-insensitively to a
   * SCIM user's userName or email in the token's tenant, and the `sub` claim matched exactly to its externalId (the
   * IdP's opaque user id): inactive → refused; no live user but one deleted after the token was issued (iat, with
   * the clock skew) → refused. A subject SCIM never knew is unaffected. Returns until when the answer holds.
   */
  private async checkScim(
    tenantId: string,
    subject: string,
    sub: string | null,
    issuedAt: number,
  ): Promise<number> {
    const key = `${tenantId}\n${subject.toLowerCase()}\n${sub ?? ''}`;
    const now = Date.now();
    const live = (k: string) => {
      const entry = this.standings.get(k);
      return entry && entry.until > now ? entry : undefined;
    };
    let cached = live(tenantId) ?? live(key);
    if (!cached) {
      const generation = this.generation;
      cached = {
        standing: await this.scim.standingOf(tenantId, subject, sub),
        until: now + this.config.authCacheTtlSeconds * 1000,
      };
      if (generation === this.generation && this.config.authCacheTtlSeconds > 0) {
        if (this.standings.size >= 10_000) this.standings.clear();
        this.standings.set(cached.standing.tenant_uses_scim ? key : tenantId, cached);
      }
    }
    const refusal = scimRefusalOf(
      { active: cached.standing.active, deletedAt: cached.standing.deleted_at },
      issuedAt,
    );
    if (refusal) throw new OidcRefused(refusal);
    return cached.until;
  }

  /** The tenant a refused token was aimed at, when that can be told without trusting the token. */
  async attributedTenant(token: string): Promise<string | undefined> {
    const claims = decodeOrNull(token);
    if (!claims || typeof claims.iss !== 'string') return undefined;
    const trusted = await this.index.lookup(claims.iss).catch(() => undefined);
    if (trusted?.mapping.boundTenant) return trusted.mapping.boundTenant;
    // Unknown issuers and the deployment-wide issuer: the tenant the token names, if it exists (rate limited).
    const claimed = claims[trusted?.mapping.tenantClaim ?? this.config.sso.oidc?.tenantClaim ?? 'tenant_id'];
    return typeof claimed === 'string' && (await this.tenantExists(claimed).catch(() => false))
      ? claimed
      : undefined;
  }

  /**
   * Where a refusal that names no existing tenant is audited: only a token of the deployment-wide issuer (the
   * deployment's own IdP; an unknown issuer can be anyone), and only when the operator named a tenant for it
   * (`AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT`) that exists. SPEC defines no default tenant, so nothing falls back
   * to one: unset, such refusals are only logged.
   */
  private async unattributedTenant(token: string): Promise<string | undefined> {
    const deployment = this.config.sso.oidc;
    const target = deployment?.unattributedAuditTenant;
    if (!target || decodeOrNull(token)?.iss !== deployment.issuer) return undefined;
    return (await this.tenantExists(target).catch(() => false)) ? target : undefined;
  }

  private context(token: string): Record<string, string> {
    const claims = decodeOrNull(token);
    const context: Record<string, string> = {};
    if (claims && typeof claims.iss === 'string') context.issuer = claims.iss.slice(0, 200);
    if (claims && typeof claims.sub === 'string') context.subject = claims.sub.slice(0, 200);
    return context;
  }

  /** Tenants are rarely deleted: an existing tenant is remembered for the auth cache TTL. */
  private async tenantExists(tenantId: string): Promise<boolean> {
    const until = this.knownTenants.get(tenantId);
    if (until && until > Date.now()) return true;
    const exists = await this.repository.tenantExists(tenantId);
    if (exists) {
      if (this.knownTenants.size > 100_000) this.knownTenants.clear();
      this.knownTenants.set(tenantId, Date.now() + this.config.authCacheTtlSeconds * 1000);
    }
    return exists;
  }
}

function decodeOrNull(token: string): JWTPayload | null {
  try {
    return decodeJwt(token);
  } catch {
    return null;
  }
}
