import {
  DEFAULT_INTROSPECT_CONCURRENCY,
  DEFAULT_INTROSPECT_TIMEOUT_MS,
  introspectServers,
  killAllChildren,
  type DiscoveredServer,
} from '../libs/discovery/src/index.js';
import { withProgressBar } from './progress.js';
import { VERSION } from './version.js';

/** The introspection options `agents` and `scan` share. */
export interface IntrospectCliOptions {
  /** Per-server budget in seconds (default 10). */
  timeout?: number;
  concurrency?: number;
  trustProjectServers?: boolean;
}

export interface IntrospectRun {
  /** Servers whose introspection failed (timed out, crashed, refused, …). */
  failed: DiscoveredServer[];
}

/**
 * The stdio servers introspection will start: enabled ones from the user's own configs, and from project files
 * only with `--trust-project-servers`. What the warning before introspection counts.
 */
export function serversToStart(servers: readonly DiscoveredServer[], options: IntrospectCliOptions) {
  return servers.filter(
    (s) =>
      s.launch.transport === 'stdio' && !s.disabled && (!s.fromProjectFile || options.trustProjectServers),
  );
}

/**
 * Connects to every discovered server (initialize + tools/list only, never tools/call) with a per-server
 * timeout and bounded concurrency, with a progress bar on a TTY unless `quiet`, and writes each outcome into the
 * server's `introspection` (the same object the report or payload carries). A server that hangs, crashes or
 * refuses is recorded as failed, never thrown. Ctrl-C or SIGTERM meanwhile kills every started server with its
 * process group before exiting.
 */
export async function introspectDiscovered(
  servers: readonly DiscoveredServer[],
  options: IntrospectCliOptions,
  env: NodeJS.ProcessEnv,
  quiet: boolean,
): Promise<IntrospectRun> {
  if (!servers.length) return { failed: [] };
  let done = 0;
  const outcomes = await withChildCleanup(() =>
    withProgressBar('introspecting', quiet, (update) => {
      update(0, servers.length, '');
      return introspectServers(servers, {
        timeoutMs:
          options.timeout !== undefined ? Math.round(options.timeout * 1000) : DEFAULT_INTROSPECT_TIMEOUT_MS,
        concurrency: options.concurrency ?? DEFAULT_INTROSPECT_CONCURRENCY,
        trustProjectServers: options.trustProjectServers,
        clientInfo: { name: 'agent-bom', version: VERSION },
        environment: env,
        onResult: (target) => update(++done, servers.length, `${target.agent}/${target.server.name}`),
      });
    }),
  );
  const failed: DiscoveredServer[] = [];
  outcomes.forEach((outcome, i) => {
    const { server } = servers[i];
    server.introspection = outcome.introspection;
    if (outcome.introspection.status === 'failed') failed.push(servers[i]);
    // A server that answers 401 without credentials in its config authenticates by OAuth.
    if (outcome.authRequired && server.auth_mode === 'none') server.auth_mode = 'oauth';
  });
  return { failed };
}

/**
 * Runs `work` while server children may be alive: Ctrl-C or SIGTERM kills them (with their process groups)
 * before exiting, and so does any exit.
 */
async function withChildCleanup<T>(work: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    killAllChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killAllChildren);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
