import { describe, expect, it } from '@jest/globals';
import { mapClaims, type ClaimMapping } from './claims.js';
import { type OidcRefused } from './refusals.js';

const mapping: ClaimMapping = {
  tenantClaim: 'tenant_id',
  roleClaim: 'agent_bom_role',
  groupsClaim: 'groups',
  groupRoles: { 'abom-admins': 'admin', 'abom-ops': 'gateway', 'abom-root': 'platform-admin' },
};

const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as OidcRefused).reason;
  }
  return 'accepted';
};

describe('mapClaims', () => {
  it('takes the tenant from the claim and a human role from the role claim; viewer by default', () => {
    expect(mapClaims(mapping, { sub: 's', tenant_id: 'acme', agent_bom_role: 'Analyst' })).toEqual({
      tenantId: 'acme',
      role: 'analyst',
      subject: 's',
    });
    expect(mapClaims(mapping, { sub: 's', tenant_id: 'acme' }).role).toBe('viewer');
  });

  it('prefers email, then preferred_username, then sub as the subject', () => {
    expect(
      mapClaims(mapping, { sub: 's', preferred_username: 'p', email: 'e@x', tenant_id: 'acme' }).subject,
    ).toBe('e@x');
    expect(mapClaims(mapping, { sub: 's', preferred_username: 'p', tenant_id: 'acme' }).subject).toBe('p');
  });

  it('the highest mapped group wins over the role claim; only the map reaches platform-admin or machine roles', () => {
    expect(
      mapClaims(mapping, {
        sub: 's',
        tenant_id: 'acme',
        agent_bom_role: 'viewer',
        groups: ['x', 'abom-admins'],
      }).role,
    ).toBe('admin');
    expect(mapClaims(mapping, { sub: 's', tenant_id: 'acme', groups: ['abom-ops'] }).role).toBe('gateway');
    expect(mapClaims(mapping, { sub: 's', tenant_id: 'acme', groups: ['abom-ops', 'abom-root'] }).role).toBe(
      'platform-admin',
    );
  });

  it.each([
    [{ sub: 's' }, 'missing_tenant_claim'],
    [{ sub: 's', tenant_id: 42 }, 'missing_tenant_claim'],
    [{ sub: 's', tenant_id: 'Not A Tenant' }, 'unknown_tenant'],
    [{ sub: 's', tenant_id: 'acme', agent_bom_role: 'platform-admin' }, 'role_not_grantable'],
    [{ sub: 's', tenant_id: 'acme', agent_bom_role: 'gateway' }, 'role_not_grantable'],
    [{ sub: 's', tenant_id: 'acme', agent_bom_role: 'root' }, 'unknown_role'],
    [{ sub: 's', tenant_id: 'acme', agent_bom_role: ['admin'] }, 'unknown_role'],
    [{ tenant_id: 'acme' }, 'missing_claim'],
    [{ sub: 's', tenant_id: 'acme', groups: ['__proto__', 'constructor', 'toString'] }, 'accepted'],
  ])('%j → %s', (claims, expected) => {
    expect(reason(() => mapClaims(mapping, claims))).toBe(expected);
  });

  it('a bound issuer yields only its tenant; a different tenant claim is refused', () => {
    const bound = { ...mapping, boundTenant: 'acme' };
    expect(mapClaims(bound, { sub: 's' }).tenantId).toBe('acme');
    expect(mapClaims(bound, { sub: 's', tenant_id: 'acme' }).tenantId).toBe('acme');
    expect(reason(() => mapClaims(bound, { sub: 's', tenant_id: 'globex' }))).toBe('tenant_not_bound');
  });
});
