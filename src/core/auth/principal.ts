import type { Role } from '../../../libs/contracts/src/index.js';

/** How a principal proved who it is. */
export type AuthMethod = 'api_key' | 'session' | 'oidc' | 'scim' | 'system';

/** A browser session the principal came through (only when `authMethod` is `session`). */
export interface SessionInfo {
  id: string;
  expiresAt: Date;
  idleExpiresAt: Date;
  /** How the session was opened. */
  via: 'api_key' | 'oidc' | 'saml';
  /** Unsafe methods must echo this in `x-csrf-token`; derived from the cookie, never stored. */
  csrfToken: string;
}

/**
 * Who is calling. The tenant comes from the credential and nowhere else: never from a body, a query or a header.
 */
export interface Principal {
  tenantId: string;
  role: Role;
  /** Human-readable identity for audit: `key:<name>`, a user's email, or `cli:<os user>`. */
  subject: string;
  authMethod: AuthMethod;
  keyId: string | null;
  session?: SessionInfo;
  /** OIDC: the token's issuer. */
  issuer?: string;
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
  /**
   * What `resolve` would answer at once without any I/O (a verified credential whose state is still fresh in
   * memory), synchronously; undefined whenever `resolve` must decide. Never a different answer than `resolve`.
   */
  cached?(credential: string): Principal | undefined;
}

export const PRINCIPAL_RESOLVER = Symbol('PRINCIPAL_RESOLVER');

/** What a request presented: a bearer (API key or JWT, in `Authorization` or `X-API-Key`) or a session cookie. */
export type PresentedCredential = { kind: 'bearer'; value: string } | { kind: 'session'; value: string };

/** The resolver chain the global guard asks: one decision point for every kind of credential. */
export interface CredentialResolver {
  resolve(credential: PresentedCredential): Promise<Principal | undefined>;
  /** `PrincipalResolver.cached` for a presented credential: undefined whenever `resolve` must decide. */
  cached?(credential: PresentedCredential): Principal | undefined;
}

export const CREDENTIAL_RESOLVER = Symbol('CREDENTIAL_RESOLVER');
