import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repo root (this file runs from dist/bench/support). */
export const ROOT = path.resolve(here, '../../..');
export const CLI = path.join(ROOT, 'bin/agent-bom.js');

/** Child processes a benchmark started; `stopAll` ends exactly these (by their pid). */
export class Children {
  private readonly list: ChildProcess[] = [];

  /** Spawns `node args…` and waits until its output matches `ready`; returns the child and the match. */
  async start(
    args: string[],
    ready: RegExp,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.list.push(child);
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not start: ${args.join(' ')}\n${output}`)),
        60_000,
      );
      const onData = (d: Buffer) => {
        if (output.length < 64_000) output += d;
        const match = ready.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          child.stdout!.resume();
          child.stderr!.resume();
          resolve({ child, match });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code}: ${args.join(' ')}\n${output}`));
      });
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.list.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** A free loopback TCP port (for programs that cannot listen on port 0 and say which port they got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    server.on('error', reject);
  });
}

/** Polls `check` until it resolves true (or `ms` pass). */
export async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out waiting');
}

const helpCache = new Map<string, string>();

/**
 * The flags a CLI command accepts today (from its `--help`), so scenarios pass flags that a newer runtime adds
 * (e.g. `--egress-allow`) only when they exist and keep working across the runtime rewrite.
 */
export async function cliFlags(...command: string[]): Promise<Set<string>> {
  const key = command.join(' ');
  if (!helpCache.has(key)) {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...command, '--help']);
    helpCache.set(key, stdout);
  }
  return new Set(helpCache.get(key)!.match(/--[a-z][a-z0-9-]*/g) ?? []);
}

export interface ControlPlaneProcess {
  baseUrl: string;
  tenant: string;
  keys: Record<string, string>;
  /** Its database (a scratch database on DATABASE_URL's server, or the embedded server's) and that name. */
  databaseUrl: string;
  database: string;
  pid: number;
}

/** A control plane in its own process (bench/support/control-plane-process.ts) with one key per role. */
export async function startControlPlaneProcess(
  children: Children,
  roles: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ControlPlaneProcess> {
  const { child, match } = await children.start(
    [...nodeArgs, path.join(here, 'control-plane-process.js'), ...roles],
    /ready (\{.*\})\n/,
    { ...process.env, ...env },
  );
  return { ...(JSON.parse(match[1]) as Omit<ControlPlaneProcess, 'pid'>), pid: child.pid! };
}
