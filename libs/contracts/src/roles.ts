/**
 * Roles and the permission matrix shared by the control plane, the CLI, the proxy and the gateway.
 *
 * Human roles are ranked (`admin` > `analyst` > `viewer`); machine roles are least privilege and do not
 * inherit from human roles: a `fleet-push` key on a laptop can push inventory but never read it back.
 * `platform-admin` administers tenants and holds every permission of `admin` in its own tenant.
 */
export const HUMAN_ROLES = ['admin', 'analyst', 'viewer'] as const;
export const MACHINE_ROLES = ['fleet-push', 'proxy', 'gateway'] as const;
export const ROLES = ['platform-admin', ...HUMAN_ROLES, ...MACHINE_ROLES] as const;

export type HumanRole = (typeof HUMAN_ROLES)[number];
export type MachineRole = (typeof MACHINE_ROLES)[number];
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'tenants:manage',
  'keys:manage',
  'sessions:manage',
  'scim:provision',
  'keys:introspect',
  'me:read',
  'fleet:write',
  'fleet:read',
  'scan:push',
  'scan:run',
  'scan:read',
  'findings:triage',
  'discovery:read',
  'upstreams:approve',
  'policy:read',
  'policy:write',
  'policy:bundle',
  'audit:write',
  'audit:read',
  'ratelimit:use',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: readonly Permission[] = [
  'me:read',
  'fleet:read',
  'scan:read',
  'discovery:read',
  'policy:read',
  'policy:bundle',
];
// Human roles do not write runtime events: `audit:write` is for proxy and gateway keys only, so a person cannot
// put words in a runtime's mouth (docs/audit.md, "Who writes runtime events").
const ANALYST: readonly Permission[] = [...VIEWER, 'scan:run', 'scan:push', 'findings:triage', 'audit:read'];
const ADMIN: readonly Permission[] = [
  ...ANALYST,
  'keys:manage',
  'sessions:manage',
  'fleet:write',
  'policy:write',
  'upstreams:approve',
];

/** The whole matrix. Anything not listed is denied. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  'platform-admin': new Set<Permission>([...ADMIN, 'tenants:manage']),
  admin: new Set(ADMIN),
  analyst: new Set(ANALYST),
  viewer: new Set(VIEWER),
  'fleet-push': new Set<Permission>(['me:read', 'fleet:write', 'scan:push']),
  proxy: new Set<Permission>(['me:read', 'policy:bundle', 'audit:write']),
  gateway: new Set<Permission>([
    'me:read',
    'discovery:read',
    'policy:bundle',
    'audit:write',
    'keys:introspect',
    'ratelimit:use',
  ]),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** Sorted permissions of a role, for `GET /v1/auth/me`. */
export function permissionsOf(role: Role): Permission[] {
  return [...ROLE_PERMISSIONS[role]].sort();
}

/**
 * Whether a principal of role `actor` may mint a key of role `target`.
 * Nobody mints a key stronger than their own; only a platform admin mints platform-admin keys.
 */
export function canGrantRole(actor: Role, target: Role): boolean {
  if (actor === 'platform-admin') return true;
  if (actor !== 'admin') return false;
  return target !== 'platform-admin';
}
