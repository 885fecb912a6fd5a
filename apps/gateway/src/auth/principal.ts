/** Who is calling through the gateway. The tenant comes from the credential and nothing else. */
export interface Principal {
  tenant: string;
  /** For audit: `key:<name>`, `bearer-token`, `anonymous`. */
  subject: string;
  /** What sessions are bound to: the key id, `bearer`, or `anonymous`. */
  id: string;
  method: 'api_key' | 'bearer' | 'none' | 'jwt';
  role?: string;
  /** An access token's `exp`, or the end of the SCIM answer it was checked against if sooner (ms): no cached answer outlives it. */
  expiresAt?: number;
}

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403 | 503; reason: string; challenge: string };
