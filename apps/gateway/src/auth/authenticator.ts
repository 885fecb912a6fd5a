import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { API_KEY_PREFIX, type Role } from '../../../../libs/contracts/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';
import type { TokenRefusal } from '../audit/token-refusals.js';
import { SCIM_UNAVAILABLE, type JwtOutcome } from './oidc-tokens.js';
import type { AuthOutcome } from './principal.js';

/** Roles whose keys may relay MCP traffic. Machine keys of other surfaces (fleet-push, gateway) may not. */
export const RELAY_ROLES: ReadonlySet<Role> = new Set<Role>([
  'platform-admin',
  'admin',
  'analyst',
  'viewer',
  'proxy',
]);

const REALM = 'Bearer realm="agent-bom-gateway"';
const MAX_CACHE = 10_000;

/**
 * OIDC access tokens (see `GatewayOidc`): a verifier resolves a JWT to a principal of one of the gateway's tenants,
 * or refuses it with a reason. Without one, every JWT is refused as an invalid token.
 */
export interface JwtVerifier {
  verify(token: string): Promise<JwtOutcome>;
}

interface Cached {
  expires: number;
  outcome: AuthOutcome;
}

/**
 * Incoming authentication. In order: the static `--bearer-token` (tenant of the first control-plane token, or
 * `default`), a control-plane API key (`abom_…`, introspected through each served tenant's gateway key; the
 * control plane answers active only for a key of that link's own tenant, so a key maps to exactly one tenant),
 * a JWT (seam, see `JwtVerifier`). Answers — positive and negative — are cached for a short TTL by a digest of
 * the token, never the token; concurrent requests with one token share one introspection. If the control plane
 * cannot be asked, the request fails closed with 503 (not cached).
 */
export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<AuthOutcome>>();
  /** The static token's digest key (base64url) as bytes, for a constant-time comparison. */
  private readonly bearerKey?: Buffer;
  /** The `WWW-Authenticate` value of a 401 (plus `error=…` when a credential was given). */
  private readonly challenge: string;

  constructor(
    private readonly options: {
      bearerToken?: string;
      defaultTenant: string;
      /** False only on loopback without any configured credential: every caller is the default tenant. */
      required: boolean;
      links: ControlPlaneLink[];
      positiveTtlMs: number;
      negativeTtlMs: number;
      jwt?: JwtVerifier;
      /** RFC 9728 metadata URL, named in every 401 challenge (`resource_metadata`) so MCP clients find the IdP. */
      resourceMetadata?: string;
      /** An upstream's own RFC 9728 metadata URL, named instead in the challenges of that upstream's routes. */
      upstreamMetadata?: (upstream: string) => string;
      /**
       * Told of every refused access token (401, or 403 for a role that may not relay), once per token: repeats
       * within the negative TTL are answered from the cache. Logs and audits it (`TokenRefusals`).
       */
      onTokenRefused?: (refusal: TokenRefusal) => void;
    },
    private readonly logger: Logger,
  ) {
    if (options.bearerToken) this.bearerKey = Buffer.from(digestKey(options.bearerToken));
    this.challenge = options.resourceMetadata
      ? `${REALM}, resource_metadata="${options.resourceMetadata}"`
      : REALM;
  }

  get required(): boolean {
    return this.options.required;
  }

  /**
   * The caller's principal, or why not; synchronous when the answer is known (no credential, the static token, a
   * cached answer): no promise per request. With `upstream` (a relay route of that upstream), a refusal's challenge
   * names that upstream's metadata, which lists only the IdPs of the tenants that have it.
   */
  authenticate(headers: IncomingHttpHeaders, upstream?: string): AuthOutcome | Promise<AuthOutcome> {
    const outcome = this.check(headers);
    if (upstream === undefined || !this.options.upstreamMetadata) return outcome;
    return outcome instanceof Promise
      ? outcome.then((answer) => this.namingUpstream(answer, upstream))
      : this.namingUpstream(outcome, upstream);
  }

  private namingUpstream(outcome: AuthOutcome, upstream: string): AuthOutcome {
    if (outcome.ok) return outcome;
    // Every challenge starts with the gateway-wide one (realm and metadata); only that part changes.
    const specific = `${REALM}, resource_metadata="${this.options.upstreamMetadata!(upstream)}"`;
    return { ...outcome, challenge: specific + outcome.challenge.slice(this.challenge.length) };
  }

  private check(headers: IncomingHttpHeaders): AuthOutcome | Promise<AuthOutcome> {
    const token = credentialOf(headers);
    if (!token) {
      if (!this.options.required) {
        return {
          ok: true,
          principal: {
            tenant: this.options.defaultTenant,
            subject: 'anonymous',
            id: 'anonymous',
            method: 'none',
          },
        };
      }
      return { ok: false, status: 401, reason: 'a credential is required', challenge: this.challenge };
    }
    const key = digestKey(token);
    if (this.bearerKey && timingSafeEqual(Buffer.from(key), this.bearerKey)) {
      return {
        ok: true,
        principal: {
          tenant: this.options.defaultTenant,
          subject: 'bearer-token',
          id: 'bearer',
          method: 'bearer',
        },
      };
    }
    const cached = this.cache.get(key);
    if (cached && cached.expires > Date.now()) return cached.outcome;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.resolve(token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending.then((outcome) => {
      let ttl = outcome.ok
        ? this.options.positiveTtlMs
        : outcome.status === 503
          ? 0
          : this.options.negativeTtlMs;
      // An access token is never served from the cache past its own expiry.
      if (outcome.ok && outcome.principal.expiresAt)
        ttl = Math.min(ttl, outcome.principal.expiresAt - Date.now());
      if (ttl > 0) {
        if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { expires: Date.now() + ttl, outcome });
      }
      return outcome;
    });
  }

  private async resolve(token: string): Promise<AuthOutcome> {
    const invalid: AuthOutcome = {
      ok: false,
      status: 401,
      reason: 'the credential is not valid here',
      challenge: `${this.challenge}, error="invalid_token"`,
    };
    if (token.startsWith(API_KEY_PREFIX) && this.options.links.length) {
      let failures = 0;
      for (const link of this.options.links) {
        try {
          const answer = await link.introspect(token);
          if (!answer.active) continue;
          if (answer.tenant_id !== link.tenant) continue; // never trust a tenant the link was not made for
          if (!RELAY_ROLES.has(answer.role)) {
            return {
              ok: false,
              status: 403,
              reason: `a ${answer.role} key may not relay MCP traffic`,
              challenge: `${this.challenge}, error="insufficient_scope"`,
            };
          }
          return {
            ok: true,
            principal: {
              tenant: answer.tenant_id,
              subject: answer.subject,
              id: `key:${answer.key_id}`,
              method: 'api_key',
              role: answer.role,
            },
          };
        } catch (error) {
          failures++;
          this.logger.warn(
            { tenant: link.tenant, error: (error as Error).message },
            'key introspection failed',
          );
        }
      }
      if (failures)
        return {
          ok: false,
          status: 503,
          reason: 'the control plane cannot confirm the key right now',
          challenge: this.challenge,
        };
      return invalid;
    }
    if (this.options.jwt && token.split('.').length === 3) {
      const outcome = await this.options.jwt.verify(token).catch((error: unknown): JwtOutcome => {
        this.logger.warn({ error: (error as Error).message }, 'access token check failed');
        return { ok: false, reason: 'error' };
      });
      if (!outcome.ok && outcome.reason === SCIM_UNAVAILABLE) {
        // The token verified, but whether SCIM still lets its person in cannot be told: fail closed, not cached.
        return {
          ok: false,
          status: 503,
          reason: 'the control plane cannot confirm the person right now',
          challenge: this.challenge,
        };
      }
      if (!outcome.ok && outcome.reason === 'issuer_unavailable') {
        // The IdP's keys cannot be fetched: the token may be good, so fail closed without telling the client to
        // log in again (503, not cached), as when the control plane cannot confirm a key.
        return {
          ok: false,
          status: 503,
          reason: 'the identity provider cannot be reached to check the token right now',
          challenge: this.challenge,
        };
      }
      if (!outcome.ok) {
        if (outcome.reason === 'error') return invalid; // a fault of ours, logged above: not the caller's doing
        this.options.onTokenRefused?.({
          reason: outcome.reason,
          tenant: outcome.tenant,
          issuer: outcome.issuer,
        });
        return invalid;
      }
      if (outcome.principal.role && !RELAY_ROLES.has(outcome.principal.role as Role)) {
        this.options.onTokenRefused?.({
          reason: 'role_may_not_relay',
          tenant: outcome.principal.tenant,
          agent: outcome.principal.subject,
        });
        return {
          ok: false,
          status: 403,
          reason: `a ${outcome.principal.role} token may not relay MCP traffic`,
          challenge: `${this.challenge}, error="insufficient_scope"`,
        };
      }
      return { ok: true, principal: outcome.principal };
    }
    return invalid;
  }
}

/** `Authorization: Bearer …` or `X-API-Key`. */
function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S{1,4096})\s*$/i.exec(authorization);
    return match?.[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length <= 4096 ? apiKey.trim() || undefined : undefined;
}

/**
 * The cache key of a credential: its SHA-256 as base64url, so the caches hold digests, never tokens. One-shot
 * (no Hash object) and straight to a string: a `'buffer'` digest costs a fresh ArrayBuffer per request, about
 * three times the hash itself (docs/performance.md "Third gateway round"). SHA-256 stays: the key stands for the
 * token in a cache that answers "authenticated", so it must be collision resistant against anyone.
 */
function digestKey(token: string): string {
  return hash('sha256', token, 'base64url');
}
