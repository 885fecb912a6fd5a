import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import { allowInsecureRequests, discovery } from 'openid-client';
import { OidcRefused } from './refusals.js';

/** Asymmetric JWS algorithms only: never `none`, never HS* (a public key must not become an HMAC secret). */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** The most clock skew tolerated on `exp`, `nbf` and `iat`. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** What is needed to check a token of one issuer. */
export interface IssuerTrust {
  issuer: string;
  audience: string;
  /** Pinned JWKS URI; otherwise taken from the issuer's discovery document (whose `issuer` must match). */
  jwksUri?: string;
}

export interface VerifierOptions {
  /** The trust for an (unverified) `iss`, or undefined when no such issuer is configured. */
  trustOf(issuer: string): IssuerTrust | undefined;
  /** A fetched JWKS is reused this long, then fetched again on the next token (default 300 s). */
  jwksCacheSeconds?: number;
  /** A token with an unknown `kid` refetches the JWKS at most this often (default 30 s): bounds IdP load. */
  unknownKidCooldownSeconds?: number;
  /** Network budget for discovery and JWKS fetches (default 5 s). */
  timeoutMs?: number;
}

export interface VerifiedToken {
  trust: IssuerTrust;
  claims: JWTPayload;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Verifies OIDC bearer JWTs (access or ID tokens) against configured issuers. Guarantees:
 * - the signature verifies with a key from the issuer's JWKS under an asymmetric algorithm (header checked before
 *   any key is looked up, so `none` and HS* never reach a key);
 * - `iss` equals the configured issuer exactly, `aud` contains the configured audience, `exp` is present and not
 *   past, `nbf` (if any) reached, `iat` present and not in the future, each with at most 60 s of skew;
 * - an unknown `kid` refetches the JWKS at most once per cooldown; discovery and JWKS are fetched over https (http
 *   only on loopback) with a timeout;
 * - every refusal is an {@link OidcRefused} with a stable reason; the token is never put in an error message.
 * Mapping the claims to a tenant and a role is the caller's business (see `mapClaims`).
 */
export class OidcTokenVerifier {
  private readonly keySets = new Map<string, Promise<KeySet>>();
  private readonly cacheMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: VerifierOptions) {
    this.cacheMs = (options.jwksCacheSeconds ?? 300) * 1000;
    this.cooldownMs = (options.unknownKidCooldownSeconds ?? 30) * 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async verify(token: string): Promise<VerifiedToken> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new OidcRefused('malformed');
    }
    if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new OidcRefused('algorithm_not_allowed', String(header.alg).slice(0, 20));
    }
    if (typeof unverified.iss !== 'string') throw new OidcRefused('missing_claim', 'iss');
    const trust = this.options.trustOf(unverified.iss);
    if (!trust) throw new OidcRefused('unknown_issuer');
    const keys = await this.keySetOf(trust);
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: trust.issuer,
        audience: trust.audience,
        algorithms: [...ALLOWED_ALGORITHMS],
        clockTolerance: MAX_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat'],
      });
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + MAX_CLOCK_SKEW_SECONDS) {
        throw new OidcRefused('issued_in_future');
      }
      return { trust, claims: payload };
    } catch (error) {
      throw refusalOf(error);
    }
  }

  /** Forgets a cached key set (e.g. when an issuer binding changes). */
  forget(issuer: string): void {
    for (const key of this.keySets.keys()) if (key.startsWith(`${issuer}\n`)) this.keySets.delete(key);
  }

  private keySetOf(trust: IssuerTrust): Promise<KeySet> {
    const cacheKey = `${trust.issuer}\n${trust.jwksUri ?? ''}`;
    let keySet = this.keySets.get(cacheKey);
    if (!keySet) {
      keySet = this.jwksUriOf(trust).then((uri) =>
        createRemoteJWKSet(new URL(uri), {
          cacheMaxAge: this.cacheMs,
          cooldownDuration: this.cooldownMs,
          timeoutDuration: this.timeoutMs,
        }),
      );
      // A failed discovery is not cached: the next token tries again.
      keySet.catch(() => this.keySets.delete(cacheKey));
      this.keySets.set(cacheKey, keySet);
    }
    return keySet.catch(() => {
      throw new OidcRefused('issuer_unavailable');
    });
  }

  private async jwksUriOf(trust: IssuerTrust): Promise<string> {
    if (trust.jwksUri) return checkedUrl(trust.jwksUri);
    const issuer = new URL(checkedUrl(trust.issuer));
    const config = await discovery(issuer, trust.audience, undefined, undefined, {
      execute: issuer.protocol === 'http:' ? [allowInsecureRequests] : [],
      timeout: Math.ceil(this.timeoutMs / 1000),
    });
    const uri = config.serverMetadata().jwks_uri;
    if (!uri) throw new Error('the issuer publishes no jwks_uri');
    return checkedUrl(uri);
  }
}

/** https, or http on loopback only. */
function checkedUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url.href;
  throw new Error(`refusing to fetch ${url.protocol} URL off loopback`);
}

function refusalOf(error: unknown): OidcRefused {
  if (error instanceof OidcRefused) return error;
  if (error instanceof errors.JWTExpired) return new OidcRefused('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new OidcRefused('not_yet_valid');
    if (error.claim === 'iat') return new OidcRefused('issued_in_future');
    if (error.claim === 'aud') return new OidcRefused('wrong_audience');
    if (error.claim === 'iss') return new OidcRefused('wrong_issuer');
    return new OidcRefused('missing_claim', error.claim);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new OidcRefused('unknown_kid');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new OidcRefused('bad_signature');
  if (error instanceof errors.JOSEAlgNotAllowed) return new OidcRefused('algorithm_not_allowed');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new OidcRefused('issuer_unavailable');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return new OidcRefused('malformed');
  return new OidcRefused('issuer_unavailable');
}
