import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './processes.js';

export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown> & {
    content?: Array<{ type: string; text?: string }>;
    tools?: Array<{ name: string; description?: string }>;
  };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export interface StdioDriver {
  child: ChildProcess;
  /** Every stdout line, parsed (a line that is not JSON fails the test). */
  messages: JsonRpcMessage[];
  /** Every stdout line exactly as read. */
  lines: string[];
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(message: object | string | Buffer): void;
  /** The response with this id (waits for it). */
  response(id: string | number, timeoutMs?: number): Promise<JsonRpcMessage>;
  request(id: number | string, method: string, params?: object): Promise<JsonRpcMessage>;
  /** initialize + notifications/initialized. */
  handshake(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Drives a stdio JSON-RPC peer (the proxy) with raw lines, so tests can send what no SDK client would:
 * garbage, huge frames, invalid UTF-8, batches, duplicate ids.
 */
export function startStdio(command: string, args: string[], env: NodeJS.ProcessEnv): StdioDriver {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: JsonRpcMessage[] = [];
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      lines.push(line);
      messages.push(JSON.parse(line) as JsonRpcMessage);
    }
  });
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const driver: StdioDriver = {
    child,
    messages,
    lines,
    stderr: () => stderr,
    exited,
    send(message) {
      const data = Buffer.isBuffer(message)
        ? message
        : typeof message === 'string'
          ? message
          : JSON.stringify(message) + '\n';
      child.stdin!.write(data);
    },
    async response(id, timeoutMs = 15_000) {
      await waitFor(() => messages.some((m) => m.id === id && !m.method), timeoutMs).catch(() => {
        throw new Error(`no response to ${JSON.stringify(id)}; stderr:\n${stderr}`);
      });
      return messages.find((m) => m.id === id && !m.method)!;
    },
    async request(id, method, params = {}) {
      driver.send({ jsonrpc: '2.0', id, method, params });
      return driver.response(id);
    },
    async handshake() {
      await driver.request(0, 'initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw-driver', version: '1.0.0' },
      });
      driver.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    },
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return driver;
}
