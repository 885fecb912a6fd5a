import { describe, expect, it } from '@jest/globals';
import {
  canGrantRole,
  parseDuration,
  permissionsOf,
  roleHasPermission,
  ROLES,
  tenantIdProblem,
  UPSTREAM_NAME,
  upstreamName,
} from './index.js';

describe('role matrix', () => {
  it('machine roles hold only what their job needs', () => {
    expect(permissionsOf('fleet-push')).toEqual(['fleet:write', 'me:read', 'scan:push']);
    expect(permissionsOf('proxy')).toEqual(['audit:write', 'me:read', 'policy:bundle']);
    expect(permissionsOf('gateway')).toEqual([
      'audit:write',
      'discovery:read',
      'keys:introspect',
      'me:read',
      'policy:bundle',
      'ratelimit:use',
    ]);
  });

  it('a fleet key on a laptop can never read inventory', () => {
    expect(roleHasPermission('fleet-push', 'fleet:read')).toBe(false);
    expect(roleHasPermission('fleet-push', 'discovery:read')).toBe(false);
  });

  it('human roles nest: viewer ⊂ analyst ⊂ admin ⊂ platform-admin', () => {
    const chain = ['viewer', 'analyst', 'admin', 'platform-admin'] as const;
    for (let i = 1; i < chain.length; i++) {
      for (const p of permissionsOf(chain[i - 1])) expect(roleHasPermission(chain[i], p)).toBe(true);
      expect(permissionsOf(chain[i]).length).toBeGreaterThan(permissionsOf(chain[i - 1]).length);
    }
    expect(roleHasPermission('admin', 'tenants:manage')).toBe(false);
  });

  it('nobody grants above themselves', () => {
    for (const target of ROLES) expect(canGrantRole('platform-admin', target)).toBe(true);
    expect(canGrantRole('admin', 'platform-admin')).toBe(false);
    expect(canGrantRole('admin', 'gateway')).toBe(true);
    for (const actor of ['analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as const) {
      expect(canGrantRole(actor, 'viewer')).toBe(false);
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['12h', 43200],
    ['30d', 2592000],
    ['2w', 1209600],
  ])('%s = %i s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['', '0s', '10', '1y', '-5m', '1.5h', '9999999d', '1 h'])('refuses %p', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('tenant ids', () => {
  it.each(['acme', 'a', 'team-42', 'a'.repeat(63)])('accepts %p', (id) =>
    expect(tenantIdProblem(id)).toBeUndefined(),
  );
  it.each(['Acme', '-acme', 'acme-', 'a_b', 'a'.repeat(64), '', 'système', 'system'])('refuses %p', (id) =>
    expect(tenantIdProblem(id)).toBeDefined(),
  );
});

describe('discovered upstream names', () => {
  it.each([
    ['jira', 0, 'jira'],
    ['jira', 2, 'jira-2'],
    ['mcp.v2_beta', 0, 'mcp.v2_beta'],
    ['My Server', 0, 'My-Server'],
    ['My  Server (eu)', 1, 'My-Server-eu-1'],
    ['ünïcode', 0, 'unicode'],
    ['.hidden', 0, 'hidden'],
    ['日本語', 0, 'upstream'],
    ['', 0, 'upstream'],
    ['a'.repeat(200), 0, 'a'.repeat(200)],
    ['a'.repeat(200), 12, `${'a'.repeat(197)}-12`],
  ])('%p, ordinal %i → %p', (reported, ordinal, name) => {
    expect(upstreamName(reported, ordinal)).toBe(name);
    expect(name).toMatch(UPSTREAM_NAME);
  });
});
