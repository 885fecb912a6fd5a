import type { JWTPayload } from 'jose';
import { HUMAN_ROLES, ROLES, TENANT_ID_PATTERN, type Role } from '../../contracts/src/index.js';
import { OidcRefused } from './refusals.js';

/** How an issuer's claims become a tenant and a role. */
export interface ClaimMapping {
  tenantClaim: string;
  roleClaim: string;
  groupsClaim: string;
  /** Group → role, set by an operator or a platform admin; the only way to a non-human role. */
  groupRoles: Readonly<Record<string, Role>>;
  /** The tenant this issuer is bound to; then a tenant claim, if present, must name it. */
  boundTenant?: string;
}

export interface MappedIdentity {
  /** The bound tenant, or the (unverified-existence) tenant the claim names: the caller checks it exists. */
  tenantId: string;
  role: Role;
  /** `email`, `preferred_username` or `sub`, for audit. */
  subject: string;
}

const RANK: Record<Role, number> = {
  'platform-admin': 5,
  admin: 4,
  analyst: 3,
  viewer: 2,
  'fleet-push': 1,
  proxy: 1,
  gateway: 1,
};

/**
 * Maps verified claims to a tenant and a role. Guarantees:
 * - a bound issuer only ever yields its bound tenant; an unbound (deployment-wide) issuer needs the tenant claim;
 * - a role claim may name only a human role (`admin`, `analyst`, `viewer`); `platform-admin` or a machine role
 *   there is refused, not downgraded;
 * - a group in the mapping wins over the role claim (the highest mapped role); with neither, `viewer`.
 */
export function mapClaims(mapping: ClaimMapping, claims: JWTPayload): MappedIdentity {
  const claimed = claims[mapping.tenantClaim];
  let tenantId: string;
  if (mapping.boundTenant) {
    if (claimed !== undefined && claimed !== mapping.boundTenant) throw new OidcRefused('tenant_not_bound');
    tenantId = mapping.boundTenant;
  } else {
    if (typeof claimed !== 'string' || claimed.length === 0) throw new OidcRefused('missing_tenant_claim');
    if (!TENANT_ID_PATTERN.test(claimed)) throw new OidcRefused('unknown_tenant');
    tenantId = claimed;
  }

  const roleClaim = claims[mapping.roleClaim];
  let direct: Role | undefined;
  if (roleClaim !== undefined) {
    const value = typeof roleClaim === 'string' ? roleClaim.trim().toLowerCase() : '';
    if ((HUMAN_ROLES as readonly string[]).includes(value)) direct = value as Role;
    else if ((ROLES as readonly string[]).includes(value)) throw new OidcRefused('role_not_grantable', value);
    else throw new OidcRefused('unknown_role');
  }

  const groups = claims[mapping.groupsClaim];
  let mapped: Role | undefined;
  if (Array.isArray(groups)) {
    for (const group of groups.slice(0, 1000)) {
      if (typeof group !== 'string' || !Object.hasOwn(mapping.groupRoles, group)) continue;
      const role = mapping.groupRoles[group];
      if (!mapped || RANK[role] > RANK[mapped]) mapped = role;
    }
  }

  const subjectClaim = [claims.email, claims.preferred_username, claims.sub].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  if (!subjectClaim) throw new OidcRefused('missing_claim', 'sub');
  return { tenantId, role: mapped ?? direct ?? 'viewer', subject: subjectClaim.slice(0, 320) };
}
