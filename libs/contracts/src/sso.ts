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
