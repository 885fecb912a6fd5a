import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import {
  isRole,
  type GatewayOidcIssuer,
  type GatewaySubjectStanding,
  type Role,
} from '../../../../libs/contracts/src/index.js';
import {
  mapClaims,
  OidcRefused,
  OidcTokenVerifier,
  scimRefusalOf,
  type ClaimMapping,
} from '../../../../libs/oidc/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';
import type { Principal } from './principal.js';

/** One trusted issuer: how its claims map, and which of this gateway's tenants it may mint. */
interface TrustedIssuer {
  issuer: string;
  jwksUri?: string;
  mapping: Omit<ClaimMapping, 'boundTenant'>;
  /** Its own tenant (a tenant-bound issuer), or undefined for the deployment-wide issuer. */
  bound?: string;
  /** Served tenants it may mint: the bound one, or those that accept the deployment-wide issuer. */
  tenants: Set<string>;
}

/**
 * A refusal names the tenant it was aimed at when the gateway can tell it without trusting the caller and serves
 * that tenant (see {@link GatewayOidc.attributedTenant}), and the token's unverified `iss` (for the log only).
 */
/** SCIM's answer on a person (or, for a tenant without SCIM users, on the whole tenant), reused until `until`. */
interface Standing {
  answer: GatewaySubjectStanding;
  until: number;
}

/** The control plane could not say what SCIM thinks of a token's person, and nothing was known before: a 503. */
export const SCIM_UNAVAILABLE = 'scim_unavailable';

export type JwtOutcome =
  { ok: true; principal: Principal } | { ok: false; reason: string; tenant?: string; issuer?: string };

/**
 * OIDC access tokens at the gateway edge (the MCP authorization spec's resource server). Trust comes from the
 * control plane, per served tenant, through that tenant's gateway key (`GET /v1/gateway/oidc-issuers`); the
 * audience is this gateway's own resource identifier, never the control plane's. Guarantees:
 * - signature, algorithm allow-list, `iss`, `aud`, `exp`/`nbf`/`iat` are checked by `libs/oidc` (JWKS cached);
 * - the tenant comes from the token (the bound issuer's tenant, or the deployment-wide issuer's tenant claim) and is
 *   accepted only if it is a tenant this gateway's own keys serve and the issuer may mint it there: a token of a
 *   tenant the gateway does not serve, or of a tenant with its own IdP minted by another, is refused;
 * - the role follows the control plane's rules (human role claim, operator group map); the relay checks it;
 * - SCIM is obeyed as on the control plane (`scimRefusalOf`): the person's standing is asked of the control plane
 *   through the tenant's own link and reused for `scimCacheMs`, and a verified principal is never remembered past
 *   the answer it was checked against, so a deactivated or deleted person is refused within that time; if the
 *   control plane cannot answer, the last answer is kept, and without one the token is not accepted (503);
 * - if the control plane cannot be asked, the last good trust is kept; before the first answer, JWTs are refused.
 */
export class GatewayOidc {
  private byIssuer = new Map<string, TrustedIssuer>();
  private readonly perTenant = new Map<string, GatewayOidcIssuer[]>();
  private readonly standings = new Map<string, Standing>();
  private readonly verifier: OidcTokenVerifier;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: {
      /** The gateway's protected-resource identifier (`<public URL>/mcp`): the required `aud`. */
      resource: string;
      links: ControlPlaneLink[];
      refreshMs: number;
      jwksCacheSeconds?: number;
      /** How long SCIM's answer on a person is reused (0: asked for every new token). */
      scimCacheMs: number;
    },
    private readonly logger: Logger,
  ) {
    this.verifier = new OidcTokenVerifier({
      trustOf: (issuer) => {
        const trusted = this.byIssuer.get(issuer);
        return trusted && { issuer, audience: options.resource, jwksUri: trusted.jwksUri };
      },
      jwksCacheSeconds: options.jwksCacheSeconds,
    });
  }

  /** Every trusted issuer, sorted (the resource metadata's `authorization_servers`). */
  get issuers(): string[] {
    return [...this.byIssuer.keys()].sort();
  }

  /** The trusted issuers that may mint at least one of these tenants, sorted. */
  issuersOf(tenants: readonly string[]): string[] {
    return [...this.byIssuer.values()]
      .filter((trusted) => tenants.some((tenant) => trusted.tenants.has(tenant)))
      .map((trusted) => trusted.issuer)
      .sort();
  }

  /** Reads every tenant's trust now, then again every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    for (const link of this.options.links) {
      if (!link.tenant) continue;
      try {
        const answer = await link.oidcIssuers();
        if (answer.tenant_id !== link.tenant) continue; // never trust an answer for a tenant the link was not made for
        this.perTenant.set(link.tenant, answer.issuers);
      } catch (error) {
        this.logger.warn(
          { tenant: link.tenant, error: (error as Error).message },
          'could not read OIDC issuers from the control plane; keeping the last ones',
        );
      }
    }
    this.rebuild();
  }

  async verify(token: string): Promise<JwtOutcome> {
    try {
      const { trust, claims } = await this.verifier.verify(token);
      const trusted = this.byIssuer.get(trust.issuer);
      if (!trusted) throw new OidcRefused('unknown_issuer');
      const identity = mapClaims({ ...trusted.mapping, boundTenant: trusted.bound }, claims);
      if (!trusted.tenants.has(identity.tenantId)) throw new OidcRefused('tenant_not_bound');
      const scimSub = typeof claims.sub === 'string' && claims.sub.length <= 256 ? claims.sub : null;
      const standing = await this.standingOf(identity.tenantId, identity.subject, scimSub);
      if (!standing) return { ok: false, reason: SCIM_UNAVAILABLE };
      const refusal = scimRefusalOf(
        {
          active: standing.answer.active,
          deletedAt: standing.answer.deleted_at ? new Date(standing.answer.deleted_at) : null,
        },
        typeof claims.iat === 'number' ? claims.iat : 0,
      );
      if (refusal) throw new OidcRefused(refusal);
      const sub = typeof claims.sub === 'string' ? claims.sub.slice(0, 200) : identity.subject;
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
      return {
        ok: true,
        principal: {
          tenant: identity.tenantId,
          subject: `oidc:${identity.subject}`,
          id: `oidc:${trust.issuer}#${sub}`,
          method: 'jwt',
          role: identity.role,
          // Never remembered past the token's exp nor past the SCIM answer it was checked against.
          expiresAt: Math.min(exp, standing.until),
        },
      };
    } catch (error) {
      if (!(error instanceof OidcRefused)) throw error;
      // Logged and audited once, by the authenticator's refusal recorder (`TokenRefusals`).
      return {
        ok: false,
        reason: error.reason,
        tenant: this.attributedTenant(token),
        issuer: issuerOf(token),
      };
    }
  }

  /**
   * The served tenant a refused token was aimed at, when that can be told without trusting the caller: a trusted
   * issuer bound to a tenant → that tenant; the trusted deployment-wide issuer → the tenant its tenant claim names,
   * if this gateway serves it. An unknown issuer names no tenant (anyone can write any claim under it), nor does a
   * tenant this gateway does not serve (it holds no credential to that tenant's ledger). Forged tokens under a
   * trusted issuer can still aim at its tenants: the recorder's per-tenant cap bounds that.
   */
  private attributedTenant(token: string): string | undefined {
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    const trusted = typeof claims.iss === 'string' ? this.byIssuer.get(claims.iss) : undefined;
    if (!trusted) return undefined;
    if (trusted.bound) return trusted.bound;
    const claimed = claims[trusted.mapping.tenantClaim];
    return typeof claimed === 'string' && this.perTenant.has(claimed) ? claimed : undefined;
  }

  /**
   * SCIM's standing of (tenant, person), from the cache or the tenant's own link. A tenant without SCIM users is
   * remembered as such (its tokens cost no call until the TTL passes). Undefined: no answer and none known before.
   */
  private async standingOf(
    tenant: string,
    subject: string,
    sub: string | null,
  ): Promise<Standing | undefined> {
    const personKey = `${tenant}\n${subject.toLowerCase()}\n${sub ?? ''}`;
    const now = Date.now();
    const cached = this.standings.get(tenant) ?? this.standings.get(personKey);
    if (cached && cached.until > now) return cached;
    const link = this.options.links.find((l) => l.tenant === tenant);
    try {
      if (!link) throw new Error('no control-plane link serves this tenant');
      const answer = await link.subjectStanding({ subject, sub });
      if (answer.tenant_id !== tenant) throw new Error('the control plane answered for another tenant');
      const fresh = { answer, until: now + this.options.scimCacheMs };
      if (this.standings.size >= 10_000) this.standings.clear();
      this.standings.delete(answer.tenant_uses_scim ? tenant : personKey);
      this.standings.set(answer.tenant_uses_scim ? personKey : tenant, fresh);
      return fresh;
    } catch (error) {
      this.logger.warn(
        { tenant, error: (error as Error).message },
        'could not ask the control plane about an access token’s person (SCIM)',
      );
      // The last answer stands while the control plane is unreachable (held for one more TTL).
      return cached && { answer: cached.answer, until: now + this.options.scimCacheMs };
    }
  }

  private rebuild(): void {
    const next = new Map<string, TrustedIssuer>();
    const conflicted = new Set<string>();
    for (const [tenant, issuers] of this.perTenant) {
      for (const entry of issuers) {
        if (conflicted.has(entry.issuer)) continue;
        const groupRoles: Record<string, Role> = {};
        for (const [group, role] of Object.entries(entry.group_roles ?? {})) {
          if (isRole(role)) groupRoles[group] = role;
        }
        const known = next.get(entry.issuer);
        const bound = entry.bound ? tenant : undefined;
        if (known) {
          // One issuer is bound to one tenant at most (the control plane enforces it): two readings that
          // disagree (a binding changed between two answers) are not guessed between; the issuer waits.
          if (known.bound !== bound) {
            this.logger.warn({ issuer: entry.issuer }, 'an OIDC issuer is bound differently by two tenants');
            next.delete(entry.issuer);
            conflicted.add(entry.issuer);
            continue;
          }
          known.tenants.add(tenant);
          continue;
        }
        next.set(entry.issuer, {
          issuer: entry.issuer,
          jwksUri: entry.jwks_uri ?? undefined,
          mapping: {
            tenantClaim: entry.tenant_claim,
            roleClaim: entry.role_claim,
            groupsClaim: entry.groups_claim,
            groupRoles,
          },
          bound,
          tenants: new Set([tenant]),
        });
      }
    }
    for (const issuer of this.byIssuer.keys()) if (!next.has(issuer)) this.verifier.forget(issuer);
    this.byIssuer = next;
  }
}

function issuerOf(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
