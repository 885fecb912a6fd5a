/** Browser sessions and single sign-on: the answers of `/v1/auth/sso`, `/v1/auth/session(s)`. */

/** `GET /v1/auth/sso` (public): which browser logins this deployment offers. */
export interface SsoProvidersView {
  oidc: { enabled: boolean; login_url: '/v1/auth/oidc/login' | null };
  saml: { enabled: boolean; login_url: '/v1/auth/saml/login' | null };
}

export type SessionVia = 'api_key' | 'oidc' | 'saml';

/** A browser session as an admin sees it in `GET /v1/auth/sessions` (never its secret). */
export interface SessionView {
  id: string;
  tenant_id: string;
  subject: string;
  role: string;
  via: SessionVia;
  key_id: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  user_agent: string | null;
}

/** One OIDC issuer a gateway may accept tokens of for its tenant (the audience is the gateway's own resource URL). */
export interface GatewayOidcIssuer {
  issuer: string;
  /** Pinned JWKS URI, or null: taken from the issuer's discovery document. */
  jwks_uri: string | null;
  /** True: the tenant's own issuer (every token is of that tenant). False: the deployment-wide issuer, whose
   * tokens must name the tenant in `tenant_claim`. */
  bound: boolean;
  tenant_claim: string;
  role_claim: string;
  groups_claim: string;
  group_roles: Record<string, string>;
}

/**
 * `GET /v1/gateway/oidc-issuers` (a gateway key): the issuers that may mint tokens of the key's tenant. A tenant with
 * its own issuer gets that one only; otherwise the deployment-wide issuer, if there is one; otherwise none.
 */
export interface GatewayOidcAnswer {
  tenant_id: string;
  issuers: GatewayOidcIssuer[];
}

/**
 * `POST /v1/gateway/oidc-subjects` (a gateway key): what SCIM says of one access token's person in the key's tenant,
 * so the gateway refuses a deactivated or deleted person before the token expires. `subject` is the principal's
 * subject (`email`, else `preferred_username`, else `sub`), `sub` the token's `sub` claim (the IdP's user id).
 */
export interface GatewaySubjectQuery {
  subject: string;
  sub: string | null;
}

/** The answer: SCIM's standing of that person (see `scimRefusalOf` in libs/oidc for what refuses a token). */
export interface GatewaySubjectStanding {
  tenant_id: string;
  /** Whether SCIM provisioned anyone in the tenant; if not, nobody there is affected. */
  tenant_uses_scim: boolean;
  /** The matching user's `active`, or null when no live user matches. */
  active: boolean | null;
  /** ISO 8601: the latest deletion of a user matching the person, or null. */
  deleted_at: string | null;
}
