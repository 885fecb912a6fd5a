import type { HumanRole, Role } from '../../../../libs/contracts/src/index.js';

/** Browser sessions are for people: human roles, and the platform admin. Machine keys never open one. */
export function isSessionRole(role: Role): role is HumanRole | 'platform-admin' {
  return role === 'platform-admin' || role === 'admin' || role === 'analyst' || role === 'viewer';
}
