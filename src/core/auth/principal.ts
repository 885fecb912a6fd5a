import type { Role } from '../../../libs/contracts/src/index.js';

/**
 * Who is calling. The tenant comes from the credential and nowhere else: never from a body, a query or a header.
 */
export interface Principal {
  tenantId: string;
  role: Role;
  /** Human-readable identity for audit: `key:<name>`, a user's email, or `cli:<os user>`. */
  subject: string;
  authMethod: 'api_key' | 'system';
  keyId: string | null;
  /** Set for an endpoint credential: the one fleet `source_id` this key may push for (docs/fleet.md). */
  sourceId?: string | null;
}

/**
 * The principal of an operator at the machine running `agent-bom tenants|keys …` with direct database access.
 * It acts in one tenant at a time, like every other principal.
 */
export function systemPrincipal(tenantId: string, subject: string): Principal {
  return { tenantId, role: 'platform-admin', subject, authMethod: 'system', keyId: null };
}

/** Resolves a presented credential to a principal; undefined means "not valid now" (unknown, revoked, expired). */
export interface PrincipalResolver {
  resolve(credential: string): Promise<Principal | undefined>;
}

export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');
