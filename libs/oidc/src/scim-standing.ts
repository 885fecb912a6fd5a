import { MAX_CLOCK_SKEW_SECONDS } from './verifier.js';

/** What SCIM says of a token's person (the control plane reads it; the gateway asks the control plane). */
export interface ScimStandingOf {
  active: boolean | null;
  /** The latest deletion of a user matching the person, or null. */
  deletedAt: Date | null;
}

/**
 * Whether SCIM refuses a verified token of this person, the one rule of the control plane and the gateway: an
 * inactive matching user → `user_deactivated`; no live user, but one deleted after the token was issued (`iat`, with
 * the clock skew) → `user_deleted`; anyone else (never provisioned, reactivated, or a token issued after the
 * deletion) → undefined.
 */
export function scimRefusalOf(
  standing: ScimStandingOf,
  issuedAt: number,
): 'user_deactivated' | 'user_deleted' | undefined {
  if (standing.active === false) return 'user_deactivated';
  if (
    standing.active === null &&
    standing.deletedAt &&
    issuedAt - MAX_CLOCK_SKEW_SECONDS <= standing.deletedAt.getTime() / 1000
  ) {
    return 'user_deleted';
  }
  return undefined;
}
