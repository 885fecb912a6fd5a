import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HUMAN_ROLES, ROLES, tenantIdProblem, type Role } from '../../../libs/contracts/src/index.js';

/**
 * Browser sessions and single sign-on, parsed once at boot with the rest of the app config.
 * Names follow the Python reference (`AGENT_BOM_OIDC_*`, `AGENT_BOM_SAML_*`) so its users can move over.
 */
export interface SsoConfig {
  session: {
    /** A session unused for this long ends. */
    idleTimeoutSeconds: number;
    /** A session ends this long after it was opened, however busy. */
    absoluteTimeoutSeconds: number;
  };
  /** The deployment-wide OIDC issuer (bearer JWTs); tenants may bind their own through the API. */
  oidc: OidcIssuerConfig | undefined;
  /** Browser login through the deployment-wide issuer (code + PKCE). */
  oidcBrowser: OidcBrowserConfig | undefined;
  saml: SamlConfig | undefined;
  /** Each token's `jti` may be used once (replay guard shared by replicas through PostgreSQL). */
  oidcOneTimeJti: boolean;
  /** A fetched JWKS is reused this long; a key rotated out of it stops working within this time. */
  oidcJwksCacheSeconds: number;
}

/** How tokens of one issuer are checked and mapped. */
export interface OidcIssuerConfig {
  issuer: string;
  audience: string;
  /** Pinned JWKS URI; otherwise discovered from the issuer's metadata. */
  jwksUri: string | undefined;
  tenantClaim: string;
  roleClaim: string;
  groupsClaim: string;
  /** Group name → role. Values may be any role: this map is set by an operator or a platform admin. */
  groupRoles: Record<string, Role>;
  /**
   * Deployment-wide issuer only (`AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT`): the tenant whose ledger takes this
   * issuer's refused tokens that name no existing tenant, marked `unattributed`. Unset: they are only logged.
   */
  unattributedAuditTenant?: string;
}

export interface OidcBrowserConfig {
  scopes: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string;
}

export interface SamlConfig {
  idpEntityId: string;
  idpSsoUrl: string;
  idpCert: string;
  spEntityId: string;
  acsUrl: string;
  tenantAttribute: string;
  roleAttribute: string;
  groupsAttribute: string;
  groupRoles: Record<string, Role>;
}

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** https, or http on a loopback host (a local IdP in development and tests). */
export const idpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      if (url.username || url.password || url.hash) return false;
      if (url.protocol === 'https:') return true;
      return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    } catch {
      return false;
    }
  }, 'must be an https:// URL (http:// only on a loopback host)');

const CLAIM = z.string().regex(/^[A-Za-z0-9_:.\-/]{1,128}$/, 'must be a claim name');

export const groupRoleMap = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of group → role' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1).max(256), z.enum(ROLES)).refine((m) => Object.keys(m).length <= 500));

export const SSO_ENV = z.object({
  AGENT_BOM_SESSION_IDLE_TIMEOUT_SECONDS: intIn(60, 7 * 86400).default(1800),
  AGENT_BOM_SESSION_ABSOLUTE_TIMEOUT_SECONDS: intIn(300, 30 * 86400).default(12 * 3600),
  AGENT_BOM_OIDC_ISSUER: idpUrl.optional(),
  AGENT_BOM_OIDC_AUDIENCE: z.string().min(1).max(512).optional(),
  AGENT_BOM_OIDC_JWKS_URI: idpUrl.optional(),
  AGENT_BOM_OIDC_TENANT_CLAIM: CLAIM.default('tenant_id'),
  AGENT_BOM_OIDC_ROLE_CLAIM: CLAIM.default('agent_bom_role'),
  AGENT_BOM_OIDC_GROUPS_CLAIM: CLAIM.default('groups'),
  AGENT_BOM_OIDC_GROUP_ROLE_MAP: groupRoleMap.optional(),
  AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT: z
    .string()
    .refine((id) => tenantIdProblem(id) === undefined, 'must be a tenant id')
    .optional(),
  AGENT_BOM_OIDC_ONE_TIME_JTI: bool.default(false),
  AGENT_BOM_OIDC_JWKS_CACHE_SECONDS: intIn(1, 86400).default(300),
  AGENT_BOM_OIDC_CLIENT_ID: z.string().min(1).max(512).optional(),
  AGENT_BOM_OIDC_CLIENT_SECRET: z.string().min(1).max(4096).optional(),
  AGENT_BOM_OIDC_REDIRECT_URI: z.url().optional(),
  AGENT_BOM_OIDC_SCOPES: z
    .string()
    .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'must be space-separated scopes')
    .refine((v) => v.split(' ').includes('openid'), 'must include openid')
    .default('openid email profile'),
  AGENT_BOM_SAML_IDP_ENTITY_ID: z.string().min(1).max(1024).optional(),
  AGENT_BOM_SAML_IDP_SSO_URL: idpUrl.optional(),
  AGENT_BOM_SAML_IDP_CERT_FILE: z.string().min(1).optional(),
  AGENT_BOM_SAML_SP_ENTITY_ID: z.string().min(1).max(1024).optional(),
  AGENT_BOM_SAML_ACS_URL: z.url().optional(),
  AGENT_BOM_SAML_TENANT_ATTRIBUTE: CLAIM.default('tenant_id'),
  AGENT_BOM_SAML_ROLE_ATTRIBUTE: CLAIM.default('agent_bom_role'),
  AGENT_BOM_SAML_GROUPS_ATTRIBUTE: CLAIM.default('groups'),
  AGENT_BOM_SAML_GROUP_ROLE_MAP: groupRoleMap.optional(),
});

export type SsoEnv = z.infer<typeof SSO_ENV>;

const SAML_VARS = [
  'AGENT_BOM_SAML_IDP_ENTITY_ID',
  'AGENT_BOM_SAML_IDP_SSO_URL',
  'AGENT_BOM_SAML_IDP_CERT_FILE',
  'AGENT_BOM_SAML_SP_ENTITY_ID',
  'AGENT_BOM_SAML_ACS_URL',
] as const;

/** Cross-field rules; returns [variable, problem] for the first broken one. */
export function ssoConfigOf(e: SsoEnv): SsoConfig | [string, string] {
  if (e.AGENT_BOM_SESSION_IDLE_TIMEOUT_SECONDS > e.AGENT_BOM_SESSION_ABSOLUTE_TIMEOUT_SECONDS) {
    return [
      'AGENT_BOM_SESSION_IDLE_TIMEOUT_SECONDS',
      'must not exceed AGENT_BOM_SESSION_ABSOLUTE_TIMEOUT_SECONDS',
    ];
  }
  let oidc: OidcIssuerConfig | undefined;
  if (e.AGENT_BOM_OIDC_ISSUER) {
    if (!e.AGENT_BOM_OIDC_AUDIENCE)
      return ['AGENT_BOM_OIDC_AUDIENCE', 'is required when AGENT_BOM_OIDC_ISSUER is set'];
    oidc = {
      issuer: e.AGENT_BOM_OIDC_ISSUER,
      audience: e.AGENT_BOM_OIDC_AUDIENCE,
      jwksUri: e.AGENT_BOM_OIDC_JWKS_URI,
      tenantClaim: e.AGENT_BOM_OIDC_TENANT_CLAIM,
      roleClaim: e.AGENT_BOM_OIDC_ROLE_CLAIM,
      groupsClaim: e.AGENT_BOM_OIDC_GROUPS_CLAIM,
      groupRoles: e.AGENT_BOM_OIDC_GROUP_ROLE_MAP ?? {},
      unattributedAuditTenant: e.AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT,
    };
  } else if (
    e.AGENT_BOM_OIDC_AUDIENCE ||
    e.AGENT_BOM_OIDC_JWKS_URI ||
    e.AGENT_BOM_OIDC_CLIENT_ID ||
    e.AGENT_BOM_OIDC_UNATTRIBUTED_AUDIT_TENANT
  ) {
    return ['AGENT_BOM_OIDC_ISSUER', 'is required when other AGENT_BOM_OIDC_* variables are set'];
  }
  let oidcBrowser: OidcBrowserConfig | undefined;
  if (e.AGENT_BOM_OIDC_CLIENT_ID) {
    if (!e.AGENT_BOM_OIDC_REDIRECT_URI) {
      return ['AGENT_BOM_OIDC_REDIRECT_URI', 'is required when AGENT_BOM_OIDC_CLIENT_ID is set'];
    }
    oidcBrowser = {
      scopes: e.AGENT_BOM_OIDC_SCOPES,
      clientId: e.AGENT_BOM_OIDC_CLIENT_ID,
      clientSecret: e.AGENT_BOM_OIDC_CLIENT_SECRET,
      redirectUri: e.AGENT_BOM_OIDC_REDIRECT_URI,
    };
  }
  let saml: SamlConfig | undefined;
  const samlSet = SAML_VARS.filter((name) => e[name] !== undefined);
  if (samlSet.length > 0) {
    const missing = SAML_VARS.find((name) => e[name] === undefined);
    if (missing) return [missing, 'is required when any AGENT_BOM_SAML_* variable is set'];
    let idpCert: string;
    try {
      idpCert = readFileSync(e.AGENT_BOM_SAML_IDP_CERT_FILE!, 'utf8');
    } catch {
      return ['AGENT_BOM_SAML_IDP_CERT_FILE', 'cannot be read'];
    }
    if (!idpCert.includes('BEGIN CERTIFICATE'))
      return ['AGENT_BOM_SAML_IDP_CERT_FILE', 'is not a PEM certificate'];
    saml = {
      idpEntityId: e.AGENT_BOM_SAML_IDP_ENTITY_ID!,
      idpSsoUrl: e.AGENT_BOM_SAML_IDP_SSO_URL!,
      idpCert,
      spEntityId: e.AGENT_BOM_SAML_SP_ENTITY_ID!,
      acsUrl: e.AGENT_BOM_SAML_ACS_URL!,
      tenantAttribute: e.AGENT_BOM_SAML_TENANT_ATTRIBUTE,
      roleAttribute: e.AGENT_BOM_SAML_ROLE_ATTRIBUTE,
      groupsAttribute: e.AGENT_BOM_SAML_GROUPS_ATTRIBUTE,
      groupRoles: e.AGENT_BOM_SAML_GROUP_ROLE_MAP ?? {},
    };
  }
  return {
    session: {
      idleTimeoutSeconds: e.AGENT_BOM_SESSION_IDLE_TIMEOUT_SECONDS,
      absoluteTimeoutSeconds: e.AGENT_BOM_SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    },
    oidc,
    oidcBrowser,
    saml,
    oidcOneTimeJti: e.AGENT_BOM_OIDC_ONE_TIME_JTI,
    oidcJwksCacheSeconds: e.AGENT_BOM_OIDC_JWKS_CACHE_SECONDS,
  };
}

/** Roles a token or assertion may name directly; anything stronger needs an explicit group mapping. */
export const DIRECT_SSO_ROLES: readonly Role[] = HUMAN_ROLES;
