import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { isLoopbackHost } from '../../../../libs/control-plane-client/src/index.js';
import { parseDuration } from '../../../../libs/contracts/src/duration.js';
import {
  ARGUMENT_DETECTOR_MODES,
  CREDENTIAL_ACTIONS,
  type ArgumentDetectorMode,
  type CredentialAction,
} from '../../../../libs/runtime/src/index.js';
import { auditFileConfig } from '../../../../libs/runtime/src/audit/audit-file.js';
import { parseRate, type Rate } from './rate.js';

/** What `agent-bom gateway serve` was given on its command line. */
export interface GatewayCliOptions {
  bind?: string;
  fromControlPlane?: string;
  /** Repeatable: one gateway key per tenant this gateway serves. */
  controlPlaneToken?: string[];
  upstreams?: string;
  bearerToken?: string;
  policy?: string;
  policyBundle?: boolean;
  /** Where the policy bundle cache and rollback floor are kept across restarts (memory when absent). */
  stateDir?: string;
  rateLimitPerTenant?: string;
  rateLimitPerTool?: string;
  rateLimitBackend?: string;
  rateLimitDatabaseUrl?: string;
  discoveryRefreshSeconds?: string;
  allowInsecureNoAuth?: boolean;
  /** Repeatable: CIDR ranges or host-name globs upstream traffic may reach despite the default refusals. */
  egressAllow?: string[];
  /** Repeatable: browser origins allowed to call the gateway (`Origin` header). */
  allowedOrigin?: string[];
  /** Scan upstream answers for credentials and personal data (as the proxy's --detect-credentials). */
  detectCredentials?: boolean;
  credentialAction?: string;
  argumentDetectors?: string;
  /** The proxy's session steps, per client session: `--block-undeclared`, `--block-drift`, `--replay-window`. */
  blockUndeclared?: boolean;
  blockDrift?: boolean;
  replayWindow?: string;
  auditFile?: string;
  auditFileMaxSize?: string;
  auditFileKeep?: string;
}

/** The gateway's whole configuration, parsed once at start; the process refuses to start on a bad value. */
export interface GatewayConfig {
  host: string;
  port: number;
  controlPlane?: {
    /** As the operator gave it (trailing slashes removed): printed in the startup line. */
    display: string;
    url: string;
    tokens: string[];
  };
  upstreamsFile?: string;
  bearerToken?: string;
  policyFile?: string;
  /** Pull the tenant's signed policy bundle from the control plane (default: on when there is one). */
  policyBundle: boolean;
  /**
   * `--state-dir`: per tenant, the last verified bundle, its keys and the rollback floor (`<dir>/policy/<tenant>/`),
   * so a restart revalidates instead of trusting whatever the control plane serves first. Without it they are kept
   * in memory and the floor is lost on restart.
   */
  stateDir?: string;
  rateLimit: {
    perTenant?: Rate;
    perTool?: Rate;
    backend: 'memory' | 'postgres';
    databaseUrl?: string;
  };
  discoveryRefreshMs: number;
  policyRefreshMs: number;
  introspectionTtlMs: number;
  introspectionNegativeTtlMs: number;
  maxBodyBytes: number;
  /** Time a client has to send a request body (slow clients get 408). */
  bodyTimeoutMs: number;
  upstreamTimeoutMs: number;
  upstreamConnections: number;
  auditBufferEvents: number;
  auditFlushMs: number;
  /** How long SCIM's answer on an access token's person is reused: the bound on deprovisioning at the gateway. */
  scimCacheMs: number;
  /** Refused access tokens recorded in one tenant's ledger per minute (the rest are counted in one summary). */
  refusalsAuditedPerMinute: number;
  /** `--audit-file`: every audit event (all tenants) as a JSON line, size-bounded and rotated. */
  auditFile?: { path: string; maxBytes: number; keep: number };
  /** HMAC key that binds session ids to tenant, upstream and credential (share it across replicas). */
  sessionSecret: Buffer;
  logLevel: string;
  /** Egress allow-list entries as given (`--egress-allow`); parsed by the runtime's egress guard. */
  egressAllow: string[];
  /** Browser origins allowed in `Origin` (lower-case `scheme://host[:port]`). */
  allowedOrigins: string[];
  /** A connection must finish its request headers within this time (slowloris, silent sockets). */
  headerTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  idleTimeoutMs: number;
  /** Bounds on stateful sessions (legacy SSE streams and bridges): whole replica, per tenant, per credential. */
  sessionLimits: { total: number; perTenant: number; perCredential: number; opensPerMinute: number };
  /** Response scanning and redaction (`--detect-credentials`, `--credential-action`). */
  detectCredentials: boolean;
  credentialAction: CredentialAction;
  /** Argument detectors on every tools/call (`--argument-detectors`, default block). */
  argumentDetectors: ArgumentDetectorMode;
  /** Refuse `tools/call` for tools the upstream did not list in this session (`--block-undeclared`). */
  blockUndeclared: boolean;
  /** Refuse (and withhold) tools that changed or appeared after the session's first listing (`--block-drift`). */
  blockDrift: boolean;
  /** How long a session remembers a forwarded id and payload (`--replay-window`, default 5m; 0 off). */
  replayWindowMs: number;
  /**
   * The gateway's public base URL (`AGENT_BOM_GATEWAY_PUBLIC_URL`, default `http://HOST:PORT` of a concrete bind):
   * its OAuth protected-resource identifier is this plus `/mcp`, the audience OIDC access tokens must carry.
   * Undefined: OIDC access tokens are not accepted and no resource metadata is served.
   */
  publicUrl?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseGatewayConfig(options: GatewayCliOptions, env: NodeJS.ProcessEnv): GatewayConfig {
  const get = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const { host, port } = parseBind(options.bind ?? get('AGENT_BOM_GATEWAY_BIND') ?? '127.0.0.1:8090');

  const cpUrl = options.fromControlPlane ?? get('AGENT_BOM_CONTROL_PLANE_URL');
  const tokens = options.controlPlaneToken?.length
    ? options.controlPlaneToken
    : (get('AGENT_BOM_CONTROL_PLANE_TOKEN')
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean) ?? []);
  if (tokens.length && !cpUrl) throw new ConfigError('--control-plane-token needs --from-control-plane URL');
  if (cpUrl && !tokens.length) {
    throw new ConfigError(
      '--from-control-plane needs --control-plane-token (or AGENT_BOM_CONTROL_PLANE_TOKEN): a gateway key',
    );
  }
  if (new Set(tokens).size !== tokens.length) throw new ConfigError('a --control-plane-token is repeated');

  const upstreamsFile = options.upstreams ?? get('AGENT_BOM_GATEWAY_UPSTREAMS');
  if (!cpUrl && !upstreamsFile) {
    throw new ConfigError('nothing to front: give --from-control-plane URL and/or --upstreams FILE');
  }
  const bearerToken = options.bearerToken ?? get('AGENT_BOM_GATEWAY_BEARER_TOKEN');
  if (bearerToken !== undefined && (bearerToken.length < 16 || /\s/.test(bearerToken))) {
    throw new ConfigError('--bearer-token must be at least 16 characters without whitespace');
  }
  if (!bearerToken && !cpUrl && !isLoopbackHost(host) && !options.allowInsecureNoAuth) {
    throw new ConfigError(
      `refusing to serve ${host} without incoming authentication: give --bearer-token or --from-control-plane ` +
        '(API keys), or --allow-insecure-no-auth',
    );
  }

  const backend = options.rateLimitBackend ?? get('AGENT_BOM_GATEWAY_RATE_LIMIT_BACKEND') ?? 'memory';
  if (backend !== 'memory' && backend !== 'postgres') {
    throw new ConfigError('--rate-limit-backend must be memory or postgres');
  }
  const rate = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    try {
      return parseRate(value);
    } catch (error) {
      throw new ConfigError(`${flag}: ${(error as Error).message}`);
    }
  };
  const perTenant = rate(
    '--rate-limit-per-tenant',
    options.rateLimitPerTenant ?? get('AGENT_BOM_GATEWAY_RATE_LIMIT_PER_TENANT'),
  );
  const perTool = rate(
    '--rate-limit-per-tool',
    options.rateLimitPerTool ?? get('AGENT_BOM_GATEWAY_RATE_LIMIT_PER_TOOL'),
  );
  const databaseUrl = options.rateLimitDatabaseUrl ?? get('DATABASE_URL');
  if (backend === 'postgres' && !databaseUrl) {
    throw new ConfigError('--rate-limit-backend postgres needs DATABASE_URL or --rate-limit-database-url');
  }

  const secret = get('AGENT_BOM_GATEWAY_SESSION_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('AGENT_BOM_GATEWAY_SESSION_SECRET must be at least 32 characters');
  }
  const number = (name: string, fallback: number, min: number, max: number) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return value;
  };
  const refreshSeconds =
    options.discoveryRefreshSeconds ?? get('AGENT_BOM_GATEWAY_DISCOVERY_REFRESH_SECONDS');
  const discoveryRefreshMs = refreshSeconds === undefined ? 60_000 : Number(refreshSeconds) * 1000;
  if (!Number.isFinite(discoveryRefreshMs) || discoveryRefreshMs < 1000 || discoveryRefreshMs > 86_400_000) {
    throw new ConfigError('--discovery-refresh-seconds must be 1-86400');
  }
  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent');
  }
  const list = (values: string[] | undefined, name: string) =>
    values?.length
      ? values
      : (get(name)
          ?.split(',')
          .map((v) => v.trim())
          .filter(Boolean) ?? []);
  const allowedOrigins = list(options.allowedOrigin, 'AGENT_BOM_GATEWAY_ALLOWED_ORIGINS').map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `--allowed-origin must be an origin like https://app.example.com (got "${origin}")`,
      );
    }
    if (url.origin === 'null' || `${url.origin}/` !== url.href.replace(/\/?$/, '/'))
      throw new ConfigError(
        `--allowed-origin must be an origin like https://app.example.com (got "${origin}")`,
      );
    return url.origin.toLowerCase();
  });
  const oneOf = <T extends string>(
    flag: string,
    value: string | undefined,
    allowed: readonly T[],
    fallback: T,
  ) => {
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value))
      throw new ConfigError(`${flag} must be ${allowed.join(', ')} (got "${value.slice(0, 40)}")`);
    return value as T;
  };
  const flag = (name: string, value: boolean | undefined) => {
    if (value !== undefined) return value;
    const raw = get(name);
    if (raw !== undefined && !['true', 'false', '1', '0'].includes(raw))
      throw new ConfigError(`${name} must be true or false`);
    return raw === 'true' || raw === '1';
  };
  const replayWindow = options.replayWindow ?? get('AGENT_BOM_GATEWAY_REPLAY_WINDOW');
  let replayWindowMs = 300_000;
  if (replayWindow !== undefined) {
    const seconds = /^0[smhdw]?$/.test(replayWindow.trim()) ? 0 : parseDuration(replayWindow);
    if (seconds === undefined)
      throw new ConfigError('--replay-window must be a duration such as 30s, 5m or 1h (0 disables)');
    replayWindowMs = seconds * 1000;
  }
  const detectEnv = get('AGENT_BOM_GATEWAY_DETECT_CREDENTIALS');
  if (detectEnv !== undefined && !['true', 'false', '1', '0'].includes(detectEnv))
    throw new ConfigError('AGENT_BOM_GATEWAY_DETECT_CREDENTIALS must be true or false');
  return {
    host,
    port,
    publicUrl: parsePublicUrl(get('AGENT_BOM_GATEWAY_PUBLIC_URL'), host, port),
    controlPlane: cpUrl
      ? { display: cpUrl.trim().replace(/\/+$/, ''), url: cpUrl.trim(), tokens }
      : undefined,
    upstreamsFile,
    bearerToken,
    policyFile: options.policy ?? get('AGENT_BOM_GATEWAY_POLICY'),
    policyBundle: Boolean(cpUrl) && options.policyBundle !== false,
    stateDir: options.stateDir ?? get('AGENT_BOM_GATEWAY_STATE_DIR'),
    rateLimit: { perTenant, perTool, backend, databaseUrl: backend === 'postgres' ? databaseUrl : undefined },
    discoveryRefreshMs,
    policyRefreshMs: number('AGENT_BOM_GATEWAY_POLICY_REFRESH_SECONDS', 30, 1, 86_400) * 1000,
    introspectionTtlMs: number('AGENT_BOM_GATEWAY_AUTH_CACHE_TTL_SECONDS', 10, 0, 300) * 1000,
    introspectionNegativeTtlMs: number('AGENT_BOM_GATEWAY_AUTH_NEGATIVE_TTL_SECONDS', 5, 0, 300) * 1000,
    maxBodyBytes: number('AGENT_BOM_GATEWAY_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    bodyTimeoutMs: number('AGENT_BOM_GATEWAY_BODY_TIMEOUT_MS', 10_000, 100, 300_000),
    upstreamTimeoutMs: number('AGENT_BOM_GATEWAY_UPSTREAM_TIMEOUT_MS', 60_000, 100, 3_600_000),
    upstreamConnections: number('AGENT_BOM_GATEWAY_UPSTREAM_CONNECTIONS', 256, 1, 10_000),
    auditBufferEvents: number('AGENT_BOM_GATEWAY_AUDIT_BUFFER_EVENTS', 50_000, 100, 10_000_000),
    auditFlushMs: number('AGENT_BOM_GATEWAY_AUDIT_FLUSH_MS', 1000, 10, 60_000),
    scimCacheMs: number('AGENT_BOM_GATEWAY_SCIM_CACHE_SECONDS', 10, 0, 300) * 1000,
    refusalsAuditedPerMinute: number('AGENT_BOM_GATEWAY_REFUSALS_AUDITED_PER_MINUTE', 60, 0, 10_000),
    auditFile: gatewayAuditFile(options, get),
    sessionSecret: secret ? Buffer.from(secret, 'utf8') : randomBytes(32),
    logLevel,
    egressAllow: list(options.egressAllow, 'AGENT_BOM_GATEWAY_EGRESS_ALLOW'),
    allowedOrigins,
    headerTimeoutMs: number('AGENT_BOM_GATEWAY_HEADER_TIMEOUT_MS', 10_000, 100, 300_000),
    idleTimeoutMs: number('AGENT_BOM_GATEWAY_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    sessionLimits: {
      total: number('AGENT_BOM_GATEWAY_MAX_SESSIONS', 10_000, 1, 1_000_000),
      perTenant: number('AGENT_BOM_GATEWAY_MAX_SESSIONS_PER_TENANT', 1_000, 1, 1_000_000),
      perCredential: number('AGENT_BOM_GATEWAY_MAX_SESSIONS_PER_CREDENTIAL', 50, 1, 1_000_000),
      opensPerMinute: number('AGENT_BOM_GATEWAY_SESSION_OPENS_PER_MINUTE', 120, 1, 1_000_000),
    },
    detectCredentials: options.detectCredentials ?? (detectEnv === 'true' || detectEnv === '1'),
    credentialAction: oneOf(
      '--credential-action',
      options.credentialAction ?? get('AGENT_BOM_GATEWAY_CREDENTIAL_ACTION'),
      CREDENTIAL_ACTIONS,
      'redact',
    ),
    argumentDetectors: oneOf(
      '--argument-detectors',
      options.argumentDetectors ?? get('AGENT_BOM_GATEWAY_ARGUMENT_DETECTORS'),
      ARGUMENT_DETECTOR_MODES,
      'block',
    ),
    blockUndeclared: flag('AGENT_BOM_GATEWAY_BLOCK_UNDECLARED', options.blockUndeclared),
    blockDrift: flag('AGENT_BOM_GATEWAY_BLOCK_DRIFT', options.blockDrift),
    replayWindowMs,
  };
}

/** An origin: https, or http on a loopback host (the gateway serves its metadata at its own root). */
function parsePublicUrl(value: string | undefined, host: string, port: number): string | undefined {
  if (value === undefined) {
    if (port === 0 || host === '0.0.0.0' || host === '::') return undefined;
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`AGENT_BOM_GATEWAY_PUBLIC_URL must be a URL (got "${value.slice(0, 80)}")`);
  }
  if (url.search || url.hash || url.username || url.password || url.pathname.replace(/\/+$/, '')) {
    throw new ConfigError(
      'AGENT_BOM_GATEWAY_PUBLIC_URL must be an origin like https://gateway.example.com (no path, query or credentials)',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError('AGENT_BOM_GATEWAY_PUBLIC_URL must be https:// (http:// only on a loopback host)');
  }
  return url.origin;
}

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces). */
export function parseBind(bind: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(bind.trim());
  const port = Number(match?.[3]);
  const host = match?.[1] ?? (match?.[2] || '0.0.0.0');
  if (!match || port > 65535 || (match[1] && isIP(host) !== 6)) {
    throw new ConfigError(`--bind must be HOST:PORT (got "${bind}")`);
  }
  return { host, port };
}

function gatewayAuditFile(
  options: GatewayCliOptions,
  get: (name: string) => string | undefined,
): GatewayConfig['auditFile'] {
  try {
    const file = auditFileConfig({
      file: options.auditFile ?? get('AGENT_BOM_GATEWAY_AUDIT_FILE'),
      maxSize: options.auditFileMaxSize ?? get('AGENT_BOM_GATEWAY_AUDIT_FILE_MAX_SIZE'),
      keep: options.auditFileKeep ?? get('AGENT_BOM_GATEWAY_AUDIT_FILE_KEEP'),
    });
    return file && { ...file, path: path.resolve(file.path) };
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}
