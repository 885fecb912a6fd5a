import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Largest buffered stdout of a server before the connection is dropped (a hostile server cannot exhaust memory). */
const MAX_STDOUT_BUFFER_BYTES = 8 * 1024 * 1024;
/** How much of the server's stderr is kept, for a one-line failure reason. */
const STDERR_TAIL_BYTES = 2048;
/** After stdin closes, how long a server gets to exit on its own before SIGTERM, then before SIGKILL. */
const GRACE_MS = 300;
const TERM_MS = 700;

const running = new Set<ChildProcessTransport>();

/**
 * Kills every server child still running, with its whole process group. Synchronous, so it is safe in a
 * process `exit` handler or a signal handler: `agent-bom agents` never leaves a server behind.
 */
export function killAllChildren(): void {
  for (const transport of running) transport.killNow();
}

export interface ChildProcessParams {
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Windows: pass args verbatim (already quoted for cmd.exe). */
  windowsVerbatimArguments?: boolean;
}

/**
 * MCP stdio client transport that owns its server process. Unlike the SDK's, it starts the server in its own
 * process group (POSIX) and tears the whole group down on close (stdin EOF, then SIGTERM, then SIGKILL), so
 * `npx`/`sh -c` wrappers and their grandchildren do not outlive a timeout. The server's stderr is captured
 * (never echoed: a server may print its environment), and its stdout buffer is bounded.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child?: ChildProcess;
  private readonly buffer = new ReadBuffer({ maxBufferSize: MAX_STDOUT_BUFFER_BYTES });
  private stderr = '';
  private exited?: Promise<void>;
  /** Exit code or signal once the server has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };

  constructor(private readonly params: ChildProcessParams) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last line the server wrote to stderr (bounded); may be empty. */
  lastStderrLine(): string {
    const lines = this.stderr.split(/\r?\n/).map((line) => line.trim());
    return lines.filter(Boolean).pop() ?? '';
  }

  start(): Promise<void> {
    if (this.child) throw new Error('already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, [...this.params.args], {
        env: this.params.env,
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
        windowsVerbatimArguments: this.params.windowsVerbatimArguments,
        shell: false,
      });
      this.child = child;
      let spawned = false;
      this.exited = new Promise((done) => child.once('exit', () => done()));
      child.once('error', (error) => {
        if (!spawned) reject(error);
        else this.onerror?.(error);
      });
      child.once('spawn', () => {
        spawned = true;
        running.add(this);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        // The leader is gone; anything left in its group (a wrapper's child holding the pipes) goes too.
        this.signalGroup('SIGKILL');
      });
      child.once('close', () => this.onclose?.());
      child.stdin?.on('error', () => undefined); // EPIPE when the server is gone: close() reports it
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.buffer.append(chunk);
        } catch (error) {
          this.onerror?.(error as Error);
          void this.close();
          return;
        }
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch (error) {
            // A line that is not JSON-RPC: report it and keep reading, as the SDK does.
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed || this.exit) {
        reject(new Error('the server is not running'));
        return;
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  /** Stdin EOF, then SIGTERM to the process group, then SIGKILL; resolves once the server has exited. */
  async close(): Promise<void> {
    const child = this.child;
    // Never started (spawn failed: no process, no 'exit' event) or already gone.
    if (!child || child.pid === undefined || this.exit) return;
    child.stdin?.end();
    if (await this.waitExit(GRACE_MS)) return;
    this.signalGroup('SIGTERM');
    if (await this.waitExit(TERM_MS)) return;
    this.killNow();
    await this.waitExit(TERM_MS);
  }

  /** SIGKILL the server and its process group now (synchronous). */
  killNow(): void {
    if (process.platform === 'win32' && this.child?.pid && !this.exit) {
      spawnSync('taskkill', ['/pid', String(this.child.pid), '/T', '/F'], {
        stdio: 'ignore',
        windowsHide: true,
      });
    }
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      if (process.platform === 'win32') this.child!.kill(signal);
      else process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (this.exit) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.exited!.then(() => true), timeout]);
    clearTimeout(timer);
    return exited;
  }
}
