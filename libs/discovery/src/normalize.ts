import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { FLEET_LIMITS, type AuthMode, type FleetServer, type Transport } from '../../contracts/src/index.js';
import { isCredentialName, looksLikeSecret, redactArgs, sanitizeUrl } from '../../redaction/src/index.js';
import { isRecord, printableName, type ServerEntry } from './shapes.js';

/**
 * How to reach a server, with the real values (env values, header values, the URL as configured). Needed only
 * to introspect; it never leaves memory: serializing it yields a placeholder, and `console.log`/`inspect` show
 * no values.
 */
export class LaunchSpec {
  constructor(
    readonly transport: Transport,
    readonly command: string | undefined,
    readonly args: readonly string[],
    readonly env: Readonly<Record<string, string>>,
    readonly cwd: string | undefined,
    readonly url: string | undefined,
    readonly headers: Readonly<Record<string, string>>,
  ) {}

  /** Every value that must never show up in output: env and header values, the raw URL and its parts. */
  secretValues(): string[] {
    const values = [...Object.values(this.env), ...Object.values(this.headers), ...this.args];
    if (this.url) {
      values.push(this.url);
      try {
        const url = new URL(this.url);
        values.push(url.username, url.password, url.search, url.hash, url.pathname);
        for (const value of url.searchParams.values()) values.push(value);
      } catch {
        // not a URL: the raw text is already listed
      }
    }
    return values.filter((value) => value.length >= 4);
  }

  toJSON(): string {
    return '[launch spec withheld]';
  }

  [inspect.custom](): string {
    return `LaunchSpec(${this.transport})`;
  }
}

export interface NormalizeContext {
  configPath: string;
  scope: 'global' | 'project';
  projectPath?: string;
}

export type Normalized =
  | { ok: true; server: FleetServer; launch: LaunchSpec; disabled: boolean; problems: string[] }
  | { ok: false; problem: string };

/** Clips text to the contract's bound (ASCII marker, so no validator trips over it). */
/** `/a/sse//` → `/a/sse`. A loop: `/\/+$/` retries from every `/` of a run that does not end the path. */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end);
}

export function bounded(text: string, max: number = FLEET_LIMITS.textLength): string {
  return text.length <= max ? text : text.slice(0, max - 3) + '...';
}

/** A name within the contract's bound that stays unique: long names keep a hash of the whole. */
export function boundedName(name: string): string {
  if (name.length <= FLEET_LIMITS.nameLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  return `${name.slice(0, FLEET_LIMITS.nameLength - 13)}~${hash}`;
}

/** Strings of a list; numbers and booleans (YAML/TOML `--port 3000`) become strings, anything else is refused. */
function stringsOf(value: unknown): { values: string[]; bad: boolean } {
  if (!Array.isArray(value)) return { values: [], bad: value !== undefined && value !== null };
  const values: string[] = [];
  let bad = false;
  for (const item of value) {
    if (typeof item === 'string') values.push(item);
    else if (typeof item === 'number' || typeof item === 'boolean') values.push(String(item));
    else bad = true;
  }
  return { values, bad };
}

/** `{NAME: value}` with string-ish values; other values are skipped (names still count). */
function stringMap(value: unknown): { map: Record<string, string>; names: string[]; bad: boolean } {
  const map: Record<string, string> = {};
  if (value === undefined || value === null) return { map, names: [], bad: false };
  if (!isRecord(value)) return { map, names: [], bad: true };
  for (const [name, item] of Object.entries(value)) {
    if (typeof item === 'string') map[name] = item;
    else if (typeof item === 'number' || typeof item === 'boolean') map[name] = String(item);
  }
  return { map, names: Object.keys(value), bad: false };
}

function sortedUnique(names: Iterable<string>, max: number): string[] {
  return [...new Set(names)]
    .filter((name) => name.length > 0)
    .map((name) => bounded(name, FLEET_LIMITS.nameLength))
    .sort()
    .slice(0, max);
}

/**
 * Maps one config entry to the `FleetServer` contract plus its in-memory `LaunchSpec`.
 *
 * Security invariant: the returned `FleetServer` carries names only: env and header values are read to
 * classify their names and then dropped; args and URLs are redacted (see `redact.ts`).
 */
export function normalizeServer(entry: ServerEntry, context: NormalizeContext): Normalized {
  const label = `server "${printableName(entry.name)}"`;
  const problems: string[] = [];
  const name = boundedName(entry.name.trim() || '(unnamed)');

  const command =
    typeof entry.command === 'string' && entry.command.trim() ? entry.command.trim() : undefined;
  if (entry.command !== undefined && entry.command !== null && typeof entry.command !== 'string') {
    return { ok: false, problem: `${label}: command is not a string; skipped` };
  }
  const rawUrl = typeof entry.url === 'string' && entry.url.trim() ? entry.url.trim() : undefined;
  if (!command && entry.url !== undefined && entry.url !== null && typeof entry.url !== 'string') {
    return { ok: false, problem: `${label}: url is not a string; skipped` };
  }
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : undefined;

  const args = stringsOf(entry.args);
  if (args.bad) problems.push(`${label}: args is not a list of strings; non-string items ignored`);
  const env = stringMap(entry.env);
  if (env.bad) problems.push(`${label}: env is not an object; ignored`);
  const headers = stringMap(entry.headers);
  if (headers.bad) problems.push(`${label}: headers is not an object; ignored`);
  const cwd = typeof entry.cwd === 'string' && entry.cwd ? entry.cwd : undefined;

  const envNames = new Set(entry.credentialEnvNames);
  for (const envName of env.names) {
    if (isCredentialName(envName) || looksLikeSecret(env.map[envName] ?? '')) envNames.add(envName);
  }
  const headerNames = new Set(entry.credentialHeaderNames);
  for (const headerName of headers.names) {
    if (isCredentialName(headerName) || looksLikeSecret(headers.map[headerName] ?? '')) {
      headerNames.add(headerName);
    }
  }

  let transport: Transport;
  let url: string | undefined;
  let urlCredentials = false;
  let argCredentials = false;
  let cleanArgs: string[] | undefined;
  let cleanCommand: string | undefined;
  if (command) {
    transport = 'stdio';
    // Some configs put a whole command line in `command`; redact it like args.
    const commandWords = redactArgs(command.split(/\s+/));
    cleanCommand = bounded(commandWords.args.join(' '));
    const redacted = redactArgs(args.values);
    if (args.values.length > FLEET_LIMITS.argsPerServer) {
      problems.push(
        `${label}: ${args.values.length} args; only the first ${FLEET_LIMITS.argsPerServer} are kept`,
      );
    }
    cleanArgs = redacted.args.slice(0, FLEET_LIMITS.argsPerServer).map((arg) => bounded(arg));
    for (const words of [commandWords, redacted]) {
      words.envNames.forEach((n) => envNames.add(n));
      words.headerNames.forEach((n) => headerNames.add(n));
      urlCredentials ||= words.urlCredentials;
      argCredentials ||= words.redacted;
    }
  } else if (rawUrl) {
    const clean = sanitizeUrl(rawUrl);
    if (!clean) return { ok: false, problem: `${label}: url is not an absolute URL; skipped` };
    const scheme = new URL(clean.url).protocol;
    if (scheme !== 'http:' && scheme !== 'https:') {
      return { ok: false, problem: `${label}: url scheme ${scheme} is not http or https; skipped` };
    }
    url = bounded(clean.url);
    urlCredentials = clean.hadCredentials;
    const path = withoutTrailingSlashes(new URL(clean.url).pathname);
    transport = type === 'sse' || path.endsWith('/sse') ? 'sse' : scheme === 'https:' ? 'https' : 'http';
  } else {
    return { ok: false, problem: `${label}: has neither a command nor a url; skipped` };
  }

  const credentialEnvNames = sortedUnique(envNames, FLEET_LIMITS.credentialNamesPerServer);
  const credentialHeaderNames = sortedUnique(headerNames, FLEET_LIMITS.credentialNamesPerServer);
  const authMode: AuthMode = urlCredentials
    ? 'url'
    : credentialHeaderNames.length
      ? 'headers'
      : credentialEnvNames.length
        ? 'env'
        : entry.oauth
          ? 'oauth'
          : argCredentials
            ? 'unknown' // a secret on the command line: the contract has no mode for it
            : 'none';

  const server: FleetServer = {
    name,
    transport,
    ...(cleanCommand ? { command: cleanCommand, args: cleanArgs } : { url }),
    auth_mode: authMode,
    config_path: bounded(context.configPath),
    scope: context.scope,
    ...(context.projectPath ? { project_path: bounded(context.projectPath) } : {}),
  };
  const declared = sortedUnique(entry.tools, FLEET_LIMITS.toolsPerServer);
  if (declared.length) server.declared_tools = declared;
  if (credentialEnvNames.length) server.credential_env_names = credentialEnvNames;
  if (credentialHeaderNames.length) server.credential_header_names = credentialHeaderNames;

  const launch = new LaunchSpec(
    transport,
    command,
    args.values,
    env.map,
    cwd ?? context.projectPath,
    rawUrl,
    headers.map,
  );
  return { ok: true, server, launch, disabled: entry.disabled, problems };
}
