import fs from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { FLEET_LIMITS, type FleetIntrospection } from '../../../contracts/src/index.js';
import { looksLikeSecret, REDACTED } from '../../../redaction/src/index.js';
import type { DiscoveredServer } from '../discover.js';
import { bounded } from '../normalize.js';
import { ChildProcessTransport } from './child-transport.js';
import { childEnvironment, expandPlaceholders, requestHeaders, spawnPlan } from './launch.js';

export interface IntrospectOptions {
  /** Per-server budget for connect + initialize + every tools/list page (default 10 s). */
  timeoutMs?: number;
  /** Servers introspected at once (default 4). */
  concurrency?: number;
  /** Most tools/list pages followed (default 20). */
  maxPages?: number;
  /** Start stdio servers read from project files (repository content). Default false. */
  trustProjectServers?: boolean;
  /** Base of placeholder expansion and of the child's inherited variables (default `process.env`). */
  environment?: NodeJS.ProcessEnv;
  /** `clientInfo` sent in `initialize`. */
  clientInfo?: { name: string; version: string };
  /** Called as each server finishes, in completion order. */
  onResult?: (target: DiscoveredServer, outcome: IntrospectionOutcome) => void;
}

export interface IntrospectionOutcome {
  introspection: FleetIntrospection;
  /** The server answered 401: it wants credentials the config does not give (typically OAuth). */
  authRequired: boolean;
}

export const DEFAULT_INTROSPECT_TIMEOUT_MS = 10_000;
export const DEFAULT_INTROSPECT_CONCURRENCY = 4;

/** tools/list result, loosely: a tool with an odd schema still counts by name. */
const ToolsPage = z
  .object({
    tools: z.array(z.object({ name: z.string() }).passthrough()),
    nextCursor: z.string().optional(),
  })
  .passthrough();

/**
 * Introspects servers with bounded concurrency; the outcome of each is independent (a failure is recorded,
 * never thrown). Results are in the order of `targets`.
 */
export async function introspectServers(
  targets: readonly DiscoveredServer[],
  options: IntrospectOptions = {},
): Promise<IntrospectionOutcome[]> {
  const outcomes: IntrospectionOutcome[] = new Array(targets.length);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? DEFAULT_INTROSPECT_CONCURRENCY, 64));
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      outcomes[index] = await introspectServer(targets[index], options);
      options.onResult?.(targets[index], outcomes[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return outcomes;
}

/**
 * Connects to one server, sends `initialize` and pages through `tools/list`, and disconnects (killing a
 * stdio server's process group). Never sends `tools/call` or any other method.
 *
 * Security invariant: the recorded error never contains a value from the server's env, headers, args or URL
 * (they are scrubbed, and anything secret-looking is redacted), and the child never sees agent-bom's own
 * environment beyond a short safe list.
 */
export async function introspectServer(
  target: DiscoveredServer,
  options: IntrospectOptions = {},
): Promise<IntrospectionOutcome> {
  const at = new Date().toISOString();
  const skipped = (error: string): IntrospectionOutcome => ({
    introspection: { status: 'skipped', error, at },
    authRequired: false,
  });
  if (target.disabled) return skipped('disabled in the client config');
  if (target.launch.transport === 'stdio' && target.fromProjectFile && !options.trustProjectServers) {
    return skipped('stdio server from a project file: not started without --trust-project-servers');
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_INTROSPECT_TIMEOUT_MS;
  const environment = options.environment ?? process.env;
  const scrub = scrubber(target.launch.secretValues());
  const deadline = Date.now() + timeoutMs;
  let attempts: Attempt[];
  try {
    attempts = plannedAttempts(target, environment);
  } catch {
    return {
      introspection: { status: 'failed', error: 'the url is not valid once placeholders are expanded', at },
      authRequired: false,
    };
  }
  let lastError: unknown;
  for (const attempt of attempts) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    let transport: Transport;
    try {
      transport = await attempt.create();
    } catch (error) {
      lastError = error;
      break;
    }
    try {
      const listed = await withDeadline(listTools(transport, remaining, options), remaining, () =>
        transport.close(),
      );
      return { introspection: { status: 'ok', ...listed, at }, authRequired: false };
    } catch (error) {
      lastError = error;
      if (error instanceof DeadlineError || !attempt.fallbackOn(error)) break;
    } finally {
      await Promise.race([transport.close().catch(() => undefined), sleep(2_000)]);
    }
  }
  const timedOut = lastError instanceof DeadlineError || Date.now() >= deadline;
  return {
    introspection: {
      status: 'failed',
      error: timedOut
        ? `timed out after ${formatSeconds(timeoutMs)}`
        : describeFailure(lastError, target, attempts[0]?.transportRef, scrub),
      at,
    },
    authRequired: httpStatus(lastError) === 401,
  };
}

interface Attempt {
  create(): Promise<Transport>;
  /** Whether a failure of this attempt should fall through to the next one. */
  fallbackOn(error: unknown): boolean;
  transportRef?: { current?: ChildProcessTransport };
}

function plannedAttempts(target: DiscoveredServer, environment: NodeJS.ProcessEnv): Attempt[] {
  const { launch } = target;
  if (launch.transport === 'stdio') {
    const ref: { current?: ChildProcessTransport } = {};
    return [
      {
        transportRef: ref,
        fallbackOn: () => false,
        async create() {
          const env = childEnvironment(launch.env, environment);
          const args = launch.args.map((arg) => expandPlaceholders(arg, environment) ?? arg);
          const plan = spawnPlan(launch.command!, args, env);
          const cwd = launch.cwd && (await isDirectory(launch.cwd)) ? launch.cwd : undefined;
          ref.current = new ChildProcessTransport({ ...plan, env, cwd });
          return ref.current;
        },
      },
    ];
  }
  const url = new URL(expandPlaceholders(launch.url!, environment) ?? launch.url!);
  const headers = requestHeaders(launch.headers, environment);
  // fetch refuses URLs with userinfo; send it as Basic auth, as curl and most clients do.
  if (url.username || url.password) {
    const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
    if (!hasAuthorization) {
      const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.Authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  const streamable: Attempt = {
    fallbackOn: shouldFallBack,
    create: async () => new StreamableHTTPClientTransport(url, { requestInit: { headers } }),
  };
  const sse: Attempt = {
    fallbackOn: shouldFallBack,
    create: async () => new SSEClientTransport(url, { requestInit: { headers } }),
  };
  return launch.transport === 'sse' ? [sse, streamable] : [streamable, sse];
}

/** Streamable HTTP that fails for a protocol reason falls back to legacy SSE (and vice versa); auth does not. */
function shouldFallBack(error: unknown): boolean {
  const status = httpStatus(error);
  return status !== 401 && status !== 403;
}

async function listTools(
  transport: Transport,
  budgetMs: number,
  options: IntrospectOptions,
): Promise<Omit<FleetIntrospection, 'status' | 'at'>> {
  let protocolVersion: string | undefined;
  // Every transport is told the negotiated version; recording it here works for stdio, SSE and HTTP alike.
  const original = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version: string) => {
    protocolVersion = version;
    original?.(version);
  };
  const client = new Client(options.clientInfo ?? { name: 'agent-bom', version: '0' }, { capabilities: {} });
  await client.connect(transport, { timeout: budgetMs, maxTotalTimeout: budgetMs });
  const tools = new Set<string>();
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  const maxPages = options.maxPages ?? 20;
  for (let page = 0; page < maxPages; page++) {
    const result = await client.request(
      { method: 'tools/list', params: cursor ? { cursor } : {} },
      ToolsPage,
      { timeout: budgetMs, maxTotalTimeout: budgetMs },
    );
    for (const tool of result.tools) tools.add(bounded(tool.name, FLEET_LIMITS.nameLength));
    cursor = result.nextCursor;
    if (!cursor || seenCursors.has(cursor) || tools.size >= FLEET_LIMITS.toolsPerServer) break;
    seenCursors.add(cursor);
  }
  const info = client.getServerVersion();
  return {
    tools: [...tools].sort().slice(0, FLEET_LIMITS.toolsPerServer),
    ...(protocolVersion ? { protocol_version: bounded(protocolVersion, 64) } : {}),
    ...(info?.name ? { server_name: bounded(String(info.name), FLEET_LIMITS.nameLength) } : {}),
    ...(info?.version ? { server_version: bounded(String(info.version), 64) } : {}),
  };
}

class DeadlineError extends Error {}

/** Races `work` against the deadline; on expiry runs `onExpire` (which tears the connection down). */
async function withDeadline<T>(work: Promise<T>, ms: number, onExpire: () => Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      void onExpire().catch(() => undefined);
      reject(new DeadlineError('deadline'));
    }, ms);
  });
  work.catch(() => undefined); // its rejection after the deadline is expected
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function httpStatus(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const name = (error as Error).constructor?.name;
  const code = (error as { code?: unknown }).code;
  if ((name === 'StreamableHTTPError' || name === 'SseError') && typeof code === 'number') return code;
  return undefined;
}

/** A short, secret-free reason for a failed introspection. */
function describeFailure(
  error: unknown,
  target: DiscoveredServer,
  stdio: { current?: ChildProcessTransport } | undefined,
  scrub: (text: string) => string,
): string {
  const status = httpStatus(error);
  if (status !== undefined) {
    const meaning: Record<number, string> = {
      401: 'authentication required',
      403: 'forbidden',
      404: 'not found',
      405: 'method not allowed',
    };
    return `HTTP ${status}${meaning[status] ? ` (${meaning[status]})` : ''}`;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const command = target.server.command ?? '';
  if (code === 'ENOENT' && stdio) return `cannot start ${quote(command)}: command not found`;
  if (code === 'EACCES' && stdio) return `cannot start ${quote(command)}: permission denied`;
  const child = stdio?.current;
  if (child?.exit) {
    const how = child.exit.signal ? `signal ${child.exit.signal}` : `code ${child.exit.code}`;
    const said = child.lastStderrLine();
    return bounded(`server exited (${how}) before answering${said ? `: ${scrub(said)}` : ''}`, 300);
  }
  if (error instanceof McpError) return bounded(scrub(`MCP error ${error.code}: ${error.message}`), 300);
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return `connection failed: ${cause.code}`;
  const message = error instanceof Error ? error.message : String(error);
  return bounded(scrub(message), 300);
}

function quote(text: string): string {
  return `"${text.length > 80 ? text.slice(0, 77) + '...' : text}"`;
}

/**
 * Replaces every known secret value (env and header values, URL parts, args of this server) and anything
 * secret-looking with `[redacted]`.
 */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const values = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  return (text) => {
    let clean = text;
    for (const value of values) clean = clean.split(value).join(REDACTED);
    return clean
      .split(/(\s+)/)
      .map((word) => (looksLikeSecret(word) ? REDACTED : word))
      .join('');
  };
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
