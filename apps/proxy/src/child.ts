import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

/** Environment variables that carry the proxy's own control-plane credential: never handed to the server. */
const OWN_SECRETS = ['AGENT_BOM_CONTROL_PLANE_TOKEN', 'AGENT_BOM_API_TOKEN', 'AGENT_BOM_TOKEN'];

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The wrapped MCP server. It runs in its own process group (POSIX), so a signal reaches `npx` and the node it
 * starts alike, and no terminal sends it a Ctrl-C behind the proxy's back: the proxy forwards signals itself.
 */
export class ChildServer {
  readonly exited: Promise<ChildExit>;
  /** Resolves when the process exited and its stdio closed (everything it wrote has been read). */
  readonly closed: Promise<ChildExit>;
  private exit?: ChildExit;

  private constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    this.closed = new Promise((resolve) =>
      process.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Spawns the server; rejects (ENOENT, EACCES…) when it cannot start. */
  static start(
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ChildServer> {
    const childEnv = { ...env };
    for (const name of OWN_SECRETS) delete childEnv[name];
    const child = spawn(command, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: childEnv,
      detached: process.platform !== 'win32',
      // Windows launches npx/npm through their .cmd shims, which need a shell.
      shell: process.platform === 'win32' && !/\.exe$/i.test(command),
      windowsHide: true,
    });
    const server = new ChildServer(child);
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(server));
      child.once('error', reject);
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Sends a signal to the server's process group (or the process alone where groups do not exist). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.process.pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-this.process.pid, signal);
      else this.process.kill(signal);
    } catch {
      try {
        this.process.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * At the end of the session: SIGKILL whatever is left in the server's process group (a grandchild the server
   * did not reap). Nothing happens when the group is already empty.
   */
  killGroup(): void {
    if (this.process.pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-this.process.pid, 'SIGKILL');
      else if (this.running) this.process.kill('SIGKILL');
    } catch {
      // the group is gone
    }
  }

  /** The exit status as a shell would report it: the code, or 128 + the signal number. */
  static exitCode(exit: ChildExit): number {
    if (exit.code !== null) return exit.code;
    const number = exit.signal ? os.constants.signals[exit.signal] : undefined;
    return number ? 128 + number : 1;
  }
}
