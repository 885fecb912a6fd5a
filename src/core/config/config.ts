import path from 'node:path';
import { z } from 'zod';
import { SSO_ENV, ssoConfigOf, type SsoConfig } from './sso-config.js';

/**
 * The control plane's configuration, parsed once at boot from the environment (and CLI overrides).
 * A bad value stops the process with a message naming the variable; nothing reads `process.env` later.
 */
export interface AppConfig {
  host: string;
  port: number;
  /** PostgreSQL URL; undefined means "start the embedded PostgreSQL under dataDir". */
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a verified API key stays cached; also the bound on revocation seen by other replicas. */
  authCacheTtlSeconds: number;
  maxBodyBytes: number;
  docsEnabled: boolean;
  /** Pending migrations run at boot unless this is false (then `agent-bom migrate` must run first). */
  migrateOnBoot: boolean;
  /** Most fleet agents (MCP client installations) a tenant may have; a sync that would exceed it is a 429. */
  fleetMaxAgentsPerTenant: number;
  /** Ed25519 private key (PKCS8 PEM); undefined: generated once and kept under dataDir. */
  signingKeyFile: string | undefined;
  /** A PEM file of retired public keys, or a directory of `*.pem`, whose old signatures still verify. */
  signingPreviousKeys: string | undefined;
  /** Audit entries received longer ago than this are pruned (keeping a signed anchor); undefined: kept forever. */
  auditRetentionDays: number | undefined;
  /** A signed checkpoint of each tenant's chain head at least every this many entries… */
  auditCheckpointEntries: number;
  /** …and at most this many seconds after an entry was written. */
  auditCheckpointSeconds: number;
  /** Signed checkpoints are appended here (JSONL), outside the database; see docs/audit.md, "Witness". */
  auditWitnessFile: string | undefined;
  /** …and/or POSTed here (`{"checkpoints":[…]}`), with `AGENT_BOM_AUDIT_WITNESS_TOKEN` as bearer when set. */
  auditWitnessUrl: string | undefined;
  auditWitnessToken: string | undefined;
  /** A policy bundle's validity: `expires_at` = `issued_at` + this. */
  policyBundleTtlSeconds: number;
  /** How long a signed bundle is reused for one (tenant, version, key) before it is signed afresh; 0: never. */
  policyBundleCacheSeconds: number;
  /** Browser sessions, OIDC, SAML and SCIM (`sso-config.ts`). */
  sso: SsoConfig;
  /** The built web console (`npm run build` → dist/console) served at `/`; undefined: the package's own build. */
  consoleDir: string | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ENV = z
  .object({
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: intIn(0, 65535).default(8422),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    AGENT_BOM_DATA_DIR: z.string().min(1).default('.data'),
    AGENT_BOM_DB_POOL_SIZE: intIn(1, 200).default(10),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    AGENT_BOM_AUTH_CACHE_TTL_SECONDS: intIn(0, 300).default(5),
    AGENT_BOM_MAX_BODY_BYTES: intIn(1024, 64 * 1024 * 1024).default(4 * 1024 * 1024),
    AGENT_BOM_DISABLE_DOCS: bool.default(false),
    AGENT_BOM_MIGRATE_ON_BOOT: bool.default(true),
    AGENT_BOM_FLEET_MAX_AGENTS_PER_TENANT: intIn(1, 10_000_000).default(100_000),
    AGENT_BOM_SIGNING_KEY_FILE: z.string().min(1).optional(),
    AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE: z.string().min(1).optional(),
    AGENT_BOM_AUDIT_RETENTION_DAYS: intIn(1, 36500).optional(),
    AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES: intIn(1, 1_000_000).default(1000),
    AGENT_BOM_AUDIT_WITNESS_FILE: z.string().optional(),
    AGENT_BOM_AUDIT_WITNESS_URL: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
      .optional(),
    AGENT_BOM_AUDIT_WITNESS_TOKEN: z.string().optional(),
    AGENT_BOM_AUDIT_CHECKPOINT_SECONDS: intIn(1, 86400).default(30),
    AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS: intIn(60, 30 * 86400).default(86400),
    AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: intIn(0, 3600).default(30),
    AGENT_BOM_CONSOLE_DIR: z.string().min(1).optional(),
  })
  .extend(SSO_ENV.shape);

export type ConfigOverrides = Partial<Pick<AppConfig, 'host' | 'port'>>;

/** Parses the environment into an {@link AppConfig}; throws {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): AppConfig {
  // Empty strings mean "unset", as a shell `FOO= cmd` or a blank Helm value does.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = ENV.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  const e = parsed.data;
  // A cached bundle is served for up to the cache time after it was signed: keep most of its validity for clients.
  if (e.AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS * 2 > e.AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS) {
    throw new ConfigError(
      'AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS',
      'must be at most half of AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS',
    );
  }
  const sso = ssoConfigOf(e);
  if (Array.isArray(sso)) throw new ConfigError(sso[0], sso[1]);
  return {
    host: overrides.host ?? e.HOST,
    port: overrides.port ?? e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.AGENT_BOM_DATA_DIR),
    dbPoolSize: e.AGENT_BOM_DB_POOL_SIZE,
    logLevel: e.LOG_LEVEL,
    authCacheTtlSeconds: e.AGENT_BOM_AUTH_CACHE_TTL_SECONDS,
    maxBodyBytes: e.AGENT_BOM_MAX_BODY_BYTES,
    docsEnabled: !e.AGENT_BOM_DISABLE_DOCS,
    migrateOnBoot: e.AGENT_BOM_MIGRATE_ON_BOOT,
    fleetMaxAgentsPerTenant: e.AGENT_BOM_FLEET_MAX_AGENTS_PER_TENANT,
    signingKeyFile: e.AGENT_BOM_SIGNING_KEY_FILE && path.resolve(e.AGENT_BOM_SIGNING_KEY_FILE),
    signingPreviousKeys:
      e.AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE && path.resolve(e.AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE),
    auditRetentionDays: e.AGENT_BOM_AUDIT_RETENTION_DAYS,
    auditCheckpointEntries: e.AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES,
    auditCheckpointSeconds: e.AGENT_BOM_AUDIT_CHECKPOINT_SECONDS,
    auditWitnessFile: e.AGENT_BOM_AUDIT_WITNESS_FILE && path.resolve(e.AGENT_BOM_AUDIT_WITNESS_FILE),
    auditWitnessUrl: e.AGENT_BOM_AUDIT_WITNESS_URL,
    auditWitnessToken: e.AGENT_BOM_AUDIT_WITNESS_TOKEN,
    policyBundleTtlSeconds: e.AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS,
    policyBundleCacheSeconds: e.AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS,
    consoleDir: e.AGENT_BOM_CONSOLE_DIR && path.resolve(e.AGENT_BOM_CONSOLE_DIR),
    sso,
  };
}

/** The injection token under which the parsed config is provided. */
export const APP_CONFIG = Symbol('APP_CONFIG');
