import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { ChildServer } from './child.js';
import { parseProxyConfig, ProxyConfigError, type ProxyCliOptions, type ProxyConfig } from './config.js';
import { ProxyLogger } from './logger.js';
import { FailClosedError } from '../../../libs/runtime/src/index.js';
import type { RelayIo } from './relay.js';
import { prepare, type Prepared } from './startup.js';

export type { ProxyCliOptions } from './config.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Exit statuses of the proxy itself; otherwise it exits with the MCP server's status. */
export const PROXY_EXIT = { failClosed: 1, usage: 2, cannotExecute: 126, notFound: 127 } as const;

/**
 * `agent-bom proxy [flags] -- <command> [args…]`. This module stays light (no Nest): it checks the flags,
 * obtains a verified policy (fail closed), starts the server, and meanwhile loads the Nest application that runs
 * the session. Resolves with the exit status: the server's, or one of `PROXY_EXIT`.
 */
export async function runProxy(
  command: string | undefined,
  args: readonly string[],
  options: ProxyCliOptions,
  io: RelayIo = { input: process.stdin, output: process.stdout },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: ProxyConfig;
  let logger: ProxyLogger;
  try {
    config = parseProxyConfig(command, args, options, env);
    logger = new ProxyLogger(config.logLevel, config.logFile);
  } catch (error) {
    process.stderr.write(
      `agent-bom proxy: ${error instanceof ProxyConfigError ? '' : 'cannot open the log file: '}${(error as Error).message}\n`,
    );
    return PROXY_EXIT.usage;
  }
  keepStdoutForTheProtocol();
  // Loading Nest is a few hundred milliseconds of synchronous CPU that blocks this event loop. Begun before the
  // server is spawned, it delays the spawn by as much, and the server's own start comes after it: the two starts
  // add up (a stateless client pays them on every request). So it is begun once the server runs, to overlap its
  // start — or at once when a control plane is configured, where it overlaps the wait for the bundle instead.
  let nest: Promise<typeof import('./bootstrap.js')> | undefined;
  const loadNest = () => {
    if (!nest) {
      nest = import('./bootstrap.js');
      nest.catch(() => undefined);
    }
    return nest;
  };
  if (config.controlPlane) loadNest();

  let prepared: Prepared;
  try {
    prepared = await prepare(config, logger, randomUUID());
  } catch (error) {
    logger.error((error as Error).message);
    await logger.close();
    if (error instanceof ProxyConfigError) return PROXY_EXIT.usage;
    if (error instanceof FailClosedError) return PROXY_EXIT.failClosed;
    throw error;
  }

  let child: ChildServer;
  try {
    child = await ChildServer.start(config.command, config.args, env);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    logger.error(`cannot start the MCP server "${config.command}": ${code ?? (error as Error).message}`);
    await logger.close();
    return code === 'ENOENT' ? PROXY_EXIT.notFound : code === 'EACCES' ? PROXY_EXIT.cannotExecute : 1;
  }
  const policies = prepared.policies.loaded.map(
    (p) => `${p.source === 'local' ? 'local' : 'bundle'} ${p.version} (${p.rules} rules)`,
  );
  logger.info(
    `relaying ${config.serverName} (pid ${child.pid}); policy: ${policies.join(' + ') || 'none'}${config.detectCredentials ? '; credential detection on' : ''}`,
  );

  // Until the relay takes over signal handling, a signal must still reach the server (it runs in its own group).
  const early = (signal: NodeJS.Signals) => child.signal(signal);
  for (const signal of SIGNALS) process.on(signal, early);
  try {
    const { bootstrap } = await loadNest();
    return await bootstrap({
      config,
      logger,
      child,
      io,
      prepared,
      onRelayStart: () => SIGNALS.forEach((signal) => process.off(signal, early)),
    });
  } finally {
    for (const signal of SIGNALS) process.off(signal, early);
    child.killGroup();
    await logger.close();
  }
}

/** Anything that prints with console.* (a dependency, a stray debug line) goes to stderr, never into the protocol. */
function keepStdoutForTheProtocol(): void {
  const toStderr = (...args: unknown[]) => void process.stderr.write(`${format(...args)}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.dir = toStderr;
}
