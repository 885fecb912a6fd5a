/**
 * Why a bearer JWT was refused. Stable names: they go to the audit ledger and the metrics, and docs/sso.md says
 * what each means. The token itself is never recorded.
 */
export const OIDC_REFUSALS = [
  'malformed',
  'algorithm_not_allowed',
  'unknown_issuer',
  'issuer_unavailable',
  'unknown_kid',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'issued_in_future',
  'missing_claim',
  'wrong_audience',
  'wrong_issuer',
  'replayed_jti',
  'missing_tenant_claim',
  'unknown_tenant',
  'tenant_not_bound',
  'role_not_grantable',
  'unknown_role',
  'user_deactivated',
  'user_deleted',
] as const;

export type OidcRefusal = (typeof OIDC_REFUSALS)[number];

export class OidcRefused extends Error {
  constructor(
    readonly reason: OidcRefusal,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'OidcRefused';
  }
}
