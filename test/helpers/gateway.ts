import fs from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { CLI } from './processes.js';

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** stderr lines: the startup lines and human notices. */
  lines(): string[];
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `agent-bom gateway serve …` and waits for the `serving on` line. */
export function startGateway(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, 'gateway', 'serve', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start:\n${stderr}\n${stdout}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => {
      stderr += d;
      const match = /agent-bom gateway serving on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          lines: () => stderr.split('\n').filter(Boolean),
          output: () => stderr + stdout,
          exited,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${stderr}\n${stdout}`));
    });
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface EverythingServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/** A real `@modelcontextprotocol/server-everything` over HTTP: `streamableHttp` (/mcp) or `sse` (/sse). */
export async function startEverything(mode: 'streamableHttp' | 'sse'): Promise<EverythingServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, mode], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server-everything ${mode} did not start: ${output}`)),
      30_000,
    );
    const onData = (d: Buffer) => {
      output += d;
      if (/listening on port|running on port/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  return {
    url: `http://127.0.0.1:${port}${mode === 'sse' ? '/sse' : '/mcp'}`,
    child,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One `tools/call` through a gateway's streamable HTTP endpoint; the JSON-RPC answer, from JSON or SSE. */
export async function callGatewayTool(
  gatewayUrl: string,
  upstream: string,
  token: string,
  name: string,
): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(`${gatewayUrl}/mcp/${upstream}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
  });
  const text = await res.text();
  return JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? text) as {
    result?: unknown;
    error?: { code: number; message: string };
  };
}

/**
 * An overlay file in `dir` naming one MCP test server twice: `modern` (streamable HTTP at `/mcp`) and `legacy`
 * (SSE at `/sse`), both without upstream auth. Returns its path.
 */
export async function writeModernAndLegacyOverlay(dir: string, mcpUrl: string): Promise<string> {
  const overlay = path.join(dir, 'upstreams.yaml');
  await fs.writeFile(
    overlay,
    [
      'upstreams:',
      `  - name: modern\n    url: ${mcpUrl}/mcp\n    auth: none\n    transport: streamable-http`,
      `  - name: legacy\n    url: ${mcpUrl}/sse\n    auth: none\n    transport: sse`,
      '',
    ].join('\n'),
  );
  return overlay;
}
