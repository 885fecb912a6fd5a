import type { Role } from './roles.js';

/** Every API key starts with this, so secret scanners and humans can recognise one. */
export const API_KEY_PREFIX = 'abom_';

/** The longest lifetime a key may be given (`expires_in`), one year. */
export const API_KEY_MAX_TTL_SECONDS = 366 * 86400;

/** The longest overlap a rotated key keeps working beside its replacement. */
export const API_KEY_MAX_ROTATION_OVERLAP_SECONDS = 86400;

/** An API key as the API returns it: never the secret, never its hash. */
export interface ApiKeyView {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  replaced_by: string | null;
  overlap_until: string | null;
  status: 'active' | 'expired' | 'revoked' | 'rotating';
}

/** Returned once, when a key is created or rotated. */
export interface CreatedApiKey {
  key: ApiKeyView;
  /** The raw key. It is shown here and nowhere else, ever. */
  raw_key: string;
}

export interface TenantView {
  id: string;
  name: string;
  created_at: string;
}

export interface MeView {
  tenant_id: string;
  role: Role;
  subject: string;
  /** How this request authenticated. */
  auth_method: 'api_key' | 'session' | 'oidc' | 'scim' | 'system';
  key_id: string | null;
  permissions: string[];
  /** Only for `auth_method: "session"`. */
  session?: { id: string; expires_at: string; via: 'api_key' | 'oidc' | 'saml' };
  /** Only for `auth_method: "session"`: echo it in `x-csrf-token` on POST/PUT/PATCH/DELETE. */
  csrf_token?: string;
}
