import { createHash } from 'node:crypto';
import path from 'node:path';
import { checkedUrl } from '../../../libs/control-plane-client/src/url.js';
import { parseDuration } from '../../../libs/contracts/src/duration.js';
import { auditFileConfig } from '../../../libs/runtime/src/audit/audit-file.js';
import { defaultCacheDir } from './cache-dir.js';

/** A configuration the proxy refuses to start with: exit code 2 and a message naming the flag. */
export class ProxyConfigError extends Error {
  override name = 'ConfigError';
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Everything the proxy runs with, parsed and checked once at start (docs/proxy.md lists every flag). */
export interface ProxyConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly controlPlane?: { readonly url: string; readonly token: string };
  readonly policyFile?: string;
  /** Pinned bundle verification key(s) (PEM or JWK JSON): when set, keys served by the control plane are ignored. */
  readonly policyPublicKeyFile?: string;
  readonly detectCredentials: boolean;
  readonly credentialAction: 'redact' | 'block';
  readonly blockUndeclared: boolean;
  readonly blockDrift: boolean;
  readonly argumentDetectors: 'block' | 'warn' | 'off';
  readonly replayWindowMs: number;
  /** Calls per tool per minute; 0 = unlimited. */
  readonly rateLimitPerMinute: number;
  readonly logFile?: string;
  /** `--audit-file`: every audit event as a JSON line, size-bounded and rotated. */
  readonly auditFile?: { readonly path: string; readonly maxBytes: number; readonly keep: number };
  readonly logLevel: LogLevel;
  /** Base cache directory; control-plane state lives in a subdirectory per control plane and credential. */
  readonly cacheDir: string;
  readonly serverName: string;
  readonly agent?: string;
  readonly environment?: string;
  readonly policyRefreshMs: number;
  readonly maxFrameBytes: number;
  readonly auditFlushMs: number;
  readonly spoolMaxBytes: number;
  /** Longest wait between audit delivery attempts while the control plane is down. */
  readonly auditBackoffMaxMs: number;
  /** How long the server gets to exit after its stdin closes, before SIGTERM (then SIGKILL after as long again). */
  readonly shutdownGraceMs: number;
}

/** The flags as commander hands them over (strings), before checking. */
export interface ProxyCliOptions {
  controlPlaneUrl?: string;
  controlPlaneToken?: string;
  policy?: string;
  policyPublicKey?: string;
  detectCredentials?: boolean;
  credentialAction?: string;
  blockUndeclared?: boolean;
  blockDrift?: boolean;
  argumentDetectors?: string;
  replayWindow?: string;
  rateLimit?: string;
  log?: string;
  auditFile?: string;
  auditFileMaxSize?: string;
  auditFileKeep?: string;
  logLevel?: string;
  cacheDir?: string;
  serverName?: string;
  agent?: string;
  environment?: string;
  policyRefresh?: string;
  maxFrameBytes?: string;
}

// eslint-disable-next-line no-control-regex
const NAME = /^[^\u0000-\u001f\u007f]{1,200}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * Checks the flags (with their environment fallbacks) and returns the typed configuration, or throws
 * `ProxyConfigError`. The token is only ever read here and handed to the control-plane client.
 */
export function parseProxyConfig(
  command: string | undefined,
  args: readonly string[],
  options: ProxyCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): ProxyConfig {
  if (!command)
    throw new ProxyConfigError(
      'no server command: put it after --, e.g. agent-bom proxy -- npx @modelcontextprotocol/server-everything',
    );
  const url = options.controlPlaneUrl ?? env.AGENT_BOM_CONTROL_PLANE_URL ?? env.AGENT_BOM_API_URL;
  const token = options.controlPlaneToken ?? env.AGENT_BOM_CONTROL_PLANE_TOKEN ?? env.AGENT_BOM_API_TOKEN;
  if (url && !token)
    throw new ProxyConfigError('--control-plane-url needs --control-plane-token (or AGENT_BOM_API_TOKEN)');
  if (token && !url && options.controlPlaneToken)
    throw new ProxyConfigError('--control-plane-token needs --control-plane-url');
  if (url && token) {
    // An insecure or malformed control-plane URL is a usage error (exit 2), found before anything starts.
    try {
      checkedUrl(url);
    } catch (error) {
      throw new ProxyConfigError(`--control-plane-url: ${(error as Error).message}`);
    }
  }
  const choice = <T extends string>(
    flag: string,
    value: string | undefined,
    allowed: readonly T[],
    fallback: T,
  ): T => {
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value))
      throw new ProxyConfigError(`${flag} must be one of ${allowed.join(', ')}`);
    return value as T;
  };
  const logLevel = choice(
    '--log-level',
    options.logLevel ?? env.AGENT_BOM_LOG_LEVEL,
    ['error', 'warn', 'info', 'debug'],
    'info',
  );
  const serverName = options.serverName ?? deriveServerName(command, args);
  if (!NAME.test(serverName)) throw new ProxyConfigError('--server-name must be 1-200 printable characters');
  for (const [flag, value] of [
    ['--agent', options.agent],
    ['--environment', options.environment],
  ] as const) {
    if (value !== undefined && !NAME.test(value))
      throw new ProxyConfigError(`${flag} must be 1-200 printable characters`);
  }
  return {
    command,
    args,
    controlPlane: url && token ? { url, token } : undefined,
    policyFile: options.policy,
    policyPublicKeyFile: options.policyPublicKey ?? env.AGENT_BOM_POLICY_PUBLIC_KEY_FILE,
    detectCredentials: options.detectCredentials ?? false,
    credentialAction: choice('--credential-action', options.credentialAction, ['redact', 'block'], 'redact'),
    blockUndeclared: options.blockUndeclared ?? false,
    blockDrift: options.blockDrift ?? false,
    argumentDetectors: choice(
      '--argument-detectors',
      options.argumentDetectors,
      ['block', 'warn', 'off'],
      'block',
    ),
    replayWindowMs: durationMs('--replay-window', options.replayWindow, 300_000, true),
    rateLimitPerMinute: rateLimit(options.rateLimit),
    logFile: options.log,
    auditFile: proxyAuditFile(options, env),
    logLevel,
    cacheDir: path.resolve(options.cacheDir ?? env.AGENT_BOM_CACHE_DIR ?? defaultCacheDir(env)),
    serverName,
    agent: options.agent ?? env.AGENT_BOM_AGENT,
    environment: options.environment ?? env.AGENT_BOM_ENVIRONMENT,
    policyRefreshMs: Math.max(5_000, durationMs('--policy-refresh', options.policyRefresh, 60_000, false)),
    maxFrameBytes: frameBytes(options.maxFrameBytes),
    auditFlushMs: 250,
    spoolMaxBytes: 64 * 1024 * 1024,
    auditBackoffMaxMs: backoffMs(env.AGENT_BOM_PROXY_AUDIT_BACKOFF_MAX_MS),
    shutdownGraceMs: 2_000,
  };
}

function proxyAuditFile(options: ProxyCliOptions, env: NodeJS.ProcessEnv): ProxyConfig['auditFile'] {
  try {
    const file = auditFileConfig({
      file: options.auditFile ?? env.AGENT_BOM_PROXY_AUDIT_FILE,
      maxSize: options.auditFileMaxSize ?? env.AGENT_BOM_PROXY_AUDIT_FILE_MAX_SIZE,
      keep: options.auditFileKeep ?? env.AGENT_BOM_PROXY_AUDIT_FILE_KEEP,
    });
    return file && { ...file, path: path.resolve(file.path) };
  } catch (error) {
    throw new ProxyConfigError((error as Error).message);
  }
}

function durationMs(flag: string, value: string | undefined, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (allowZero && /^0[smhdw]?$/.test(value.trim())) return 0;
  const seconds = parseDuration(value);
  if (seconds === undefined)
    throw new ProxyConfigError(
      `${flag} must be a duration such as 30s, 5m or 1h${allowZero ? ' (0 disables)' : ''}`,
    );
  return seconds * 1000;
}

function backoffMs(value: string | undefined): number {
  if (value === undefined || value === '') return 60_000;
  const ms = Number(value);
  if (!/^\d{1,9}$/.test(value) || ms < 100) {
    throw new ProxyConfigError(
      'AGENT_BOM_PROXY_AUDIT_BACKOFF_MAX_MS must be a whole number of milliseconds (at least 100)',
    );
  }
  return ms;
}

function rateLimit(value: string | undefined): number {
  if (value === undefined) return 0;
  const match = /^(\d{1,6})(?:\/(?:min|m))?$/.exec(value.trim());
  if (!match)
    throw new ProxyConfigError(
      '--rate-limit must be calls per tool per minute, e.g. 60 or 60/min (0 disables)',
    );
  return Number(match[1]);
}

function frameBytes(value: string | undefined): number {
  if (value === undefined) return 16 * 1024 * 1024;
  const match = /^(\d{1,10})([kKmM]i?[bB]?)?$/.exec(value.trim());
  const bytes = match
    ? Number(match[1]) *
      (/^[mM]/.test(match[2] ?? '') ? 1024 * 1024 : /^[kK]/.test(match[2] ?? '') ? 1024 : 1)
    : NaN;
  if (!(bytes >= 1024 && bytes <= 1024 * 1024 * 1024))
    throw new ProxyConfigError('--max-frame-bytes must be between 1KiB and 1024MiB, e.g. 16MiB');
  return bytes;
}

/**
 * The directory for one control plane and credential: bundle cache, verification keys, rollback floor and the
 * audit spool live there. Keyed by a digest of URL and token, so events spooled under one credential are never
 * pushed with another (another tenant's, perhaps), and the token itself is never written anywhere.
 */
export function controlPlaneDir(config: ProxyConfig): string | undefined {
  if (!config.controlPlane) return undefined;
  const digest = createHash('sha256')
    .update(
      `agent-bom proxy cache v1\n${new URL(config.controlPlane.url).href}\n${config.controlPlane.token}`,
    )
    .digest('hex')
    .slice(0, 16);
  return path.join(config.cacheDir, 'proxy', digest);
}

const LAUNCHERS = new Set([
  'npx',
  'npm',
  'pnpm',
  'pnpx',
  'yarn',
  'bunx',
  'bun',
  'deno',
  'node',
  'uvx',
  'uv',
  'pipx',
  'python',
  'python3',
  'py',
  'docker',
  'podman',
  'run',
  'exec',
  'dlx',
  'tsx',
  'ts-node',
  'env',
  'sh',
  'bash',
  'cmd',
  '/c',
]);
const GENERIC = new Set([
  'index',
  'main',
  'cli',
  'server',
  'dist',
  'build',
  'src',
  'bin',
  'lib',
  'out',
  'app',
]);

/** A readable server name from the command line: `npx @modelcontextprotocol/server-filesystem ~/w` → `server-filesystem`. */
export function deriveServerName(command: string, args: readonly string[]): string {
  for (const token of [command, ...args]) {
    if (token.startsWith('-') || token.includes('=')) continue;
    const base = path.basename(token).replace(/\.(?:exe|cmd|bat)$/i, '');
    if (LAUNCHERS.has(base.toLowerCase()) || /^python\d/.test(base)) continue;
    const parts = token
      .replace(/\\/g, '/')
      .replace(/@[\w.^~-]+$/, '')
      .split('/')
      .filter(Boolean);
    let name = (parts.pop() ?? token).replace(/\.(?:m?js|cjs|ts|py)$/, '');
    while (GENERIC.has(name.toLowerCase()) && parts.length > 0) name = parts.pop()!;
    const cleaned = name.replace(CONTROL, '').slice(0, 200);
    if (cleaned) return cleaned;
  }
  return 'mcp-server';
}
