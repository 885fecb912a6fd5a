/**
 * OIDC bearer-token verification shared by the control plane and the gateway: JWKS discovery and caching,
 * asymmetric algorithms only, bounded skew, stable refusal reasons, and the claim → tenant/role mapping.
 * No I/O on import; no Nest or TypeORM.
 */
export { OidcTokenVerifier, ALLOWED_ALGORITHMS, MAX_CLOCK_SKEW_SECONDS } from './verifier.js';
export type { IssuerTrust, VerifierOptions, VerifiedToken } from './verifier.js';
export { mapClaims } from './claims.js';
export type { ClaimMapping, MappedIdentity } from './claims.js';
export { OIDC_REFUSALS, OidcRefused } from './refusals.js';
export type { OidcRefusal } from './refusals.js';
export { scimRefusalOf } from './scim-standing.js';
export type { ScimStandingOf } from './scim-standing.js';
