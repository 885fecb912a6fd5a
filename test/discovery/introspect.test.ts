import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  discover,
  introspectServers,
  type DiscoveredServer,
  type IntrospectOptions,
} from '../../libs/discovery/src/index.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { isAlive, waitFor } from '../helpers/processes.js';

/**
 * Introspection against real MCP servers: the SDK's Server over stdio, @modelcontextprotocol/server-everything,
 * a streamable-HTTP and a legacy-SSE server on loopback, plus servers that hang, crash or do not exist.
 */
const SERVERS = path.resolve('test/fixtures/servers');
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const node = process.execPath;

let root: string;
let counter = 0;

/** Discovers a home whose Cursor config holds `servers` (and optional project `.mcp.json` servers). */
async function discovered(
  servers: Record<string, unknown>,
  projectServers?: Record<string, unknown>,
): Promise<DiscoveredServer[]> {
  const home = path.join(root, `home-${counter++}`);
  await fs.mkdir(path.join(home, '.cursor'), { recursive: true });
  await fs.writeFile(path.join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: servers }));
  const projects: string[] = [];
  if (projectServers) {
    const project = path.join(home, 'repo');
    await fs.mkdir(project);
    await fs.writeFile(path.join(project, '.mcp.json'), JSON.stringify({ mcpServers: projectServers }));
    projects.push(project);
  }
  const result = await discover({ os: 'linux', home, projects });
  expect(result.warnings).toEqual([]);
  return result.servers;
}

async function introspectOne(config: Record<string, unknown>, options: IntrospectOptions = {}) {
  const [target] = await discovered({ s: config });
  const [outcome] = await introspectServers([target], { timeoutMs: 10_000, ...options });
  return outcome;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-introspect-'));
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('stdio servers', () => {
  it('lists every page of tools with initialize + tools/list only, never tools/call', async () => {
    const record = path.join(root, 'methods.log');
    const outcome = await introspectOne({
      command: node,
      args: [path.join(SERVERS, 'recording-stdio.mjs')],
      env: { RECORD_FILE: record },
    });
    expect(outcome.introspection).toMatchObject({
      status: 'ok',
      tools: ['alpha', 'beta', 'delta', 'epsilon', 'gamma'],
      server_name: 'recording-server',
      server_version: '1.2.3',
      protocol_version: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
    const methods = (await fs.readFile(record, 'utf8')).trim().split('\n');
    expect(methods).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/list',
      'tools/list',
      'tools/list',
    ]);
    expect(methods).not.toContain('tools/call');
  });

  it('introspects @modelcontextprotocol/server-everything from npm', async () => {
    const outcome = await introspectOne({ command: node, args: [EVERYTHING, 'stdio'] });
    expect(outcome.introspection.status).toBe('ok');
    expect(outcome.introspection.tools).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(outcome.introspection.server_name).toBe('mcp-servers/everything');
  });

  it('a server that hangs times out, and it and its grandchild are killed', async () => {
    const pidFile = path.join(root, 'hang.pids');
    const started = Date.now();
    const outcome = await introspectOne(
      { command: node, args: [path.join(SERVERS, 'hang.mjs')], env: { PID_FILE: pidFile } },
      { timeoutMs: 1500 },
    );
    expect(outcome.introspection).toMatchObject({ status: 'failed', error: 'timed out after 1.5s' });
    expect(Date.now() - started).toBeLessThan(6000);
    const [server, grandchild] = (await fs.readFile(pidFile, 'utf8')).split(' ').map(Number);
    await waitFor(() => !isAlive(server) && !isAlive(grandchild), 5000);
  });

  it('a command that does not exist fails for that server only', async () => {
    const targets = await discovered({
      missing: { command: 'definitely-not-a-command-agent-bom' },
      fine: { command: node, args: [path.join(SERVERS, 'recording-stdio.mjs')] },
    });
    const [missing, fine] = await introspectServers(targets, { timeoutMs: 10_000 });
    expect(missing.introspection).toMatchObject({
      status: 'failed',
      error: 'cannot start "definitely-not-a-command-agent-bom": command not found',
    });
    expect(fine.introspection.status).toBe('ok');
  });

  it('a server that crashes is reported with its last stderr line, secrets scrubbed', async () => {
    const secret = 'crash-secret-' + Math.random().toString(36).slice(2);
    const outcome = await introspectOne({
      command: node,
      args: [path.join(SERVERS, 'crash.mjs')],
      env: { CRASH_TOKEN: secret },
    });
    expect(outcome.introspection).toMatchObject({
      status: 'failed',
      error: 'server exited (code 3) before answering: fatal: cannot log in with [redacted]',
    });
    expect(JSON.stringify(outcome)).not.toContain(secret);
  });

  it('the child gets its config env (placeholders expanded) and a short safe list, never agent-bom secrets', async () => {
    const envFile = path.join(root, 'env.json');
    const outcome = await introspectOne(
      {
        command: node,
        args: [path.join(SERVERS, 'recording-stdio.mjs')],
        env: { ENV_FILE: envFile, FROM_CONFIG: '${SHELL_VALUE}', STEAL: '${AGENT_BOM_PUSH_API_KEY}' },
      },
      {
        environment: {
          PATH: process.env.PATH,
          HOME: '/home/test',
          SHELL_VALUE: 'expanded',
          AGENT_BOM_PUSH_API_KEY: 'abom_must_never_reach_a_server',
          OPENAI_API_KEY: 'operator-secret',
        },
      },
    );
    expect(outcome.introspection.status).toBe('ok');
    const names: string[] = JSON.parse(await fs.readFile(envFile, 'utf8'));
    expect(names).toEqual(expect.arrayContaining(['ENV_FILE', 'FROM_CONFIG', 'HOME', 'PATH']));
    expect(names).not.toContain('AGENT_BOM_PUSH_API_KEY');
    expect(names).not.toContain('OPENAI_API_KEY');
    expect(names).not.toContain('STEAL'); // an unresolvable placeholder is left out, not expanded
  });

  it('bounds concurrency', async () => {
    const slow = {
      command: node,
      args: [path.join(SERVERS, 'recording-stdio.mjs')],
      env: { DELAY_MS: '700' },
    };
    const targets = await discovered({ a: slow, b: slow, c: slow, d: slow });
    const started = Date.now();
    const outcomes = await introspectServers(targets, { concurrency: 2, timeoutMs: 10_000 });
    expect(outcomes.map((o) => o.introspection.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // two waves of 700 ms at least
  });

  it('does not start stdio servers from project files unless trusted, nor disabled servers', async () => {
    const record = path.join(root, 'project-methods.log');
    const recording = {
      command: node,
      args: [path.join(SERVERS, 'recording-stdio.mjs')],
      env: { RECORD_FILE: record },
    };
    const targets = await discovered({ off: { ...recording, disabled: true } }, { repo: recording });
    const [off, repo] = await introspectServers(targets);
    expect(off.introspection).toMatchObject({ status: 'skipped', error: 'disabled in the client config' });
    expect(repo.introspection).toMatchObject({
      status: 'skipped',
      error: 'stdio server from a project file: not started without --trust-project-servers',
    });
    await expect(fs.access(record)).rejects.toThrow(); // nothing was started

    const [, trusted] = await introspectServers(targets, { trustProjectServers: true });
    expect(trusted.introspection.status).toBe('ok');
  });
});

describe('remote servers', () => {
  let streamable: HttpMcpServer;
  let legacy: HttpMcpServer;
  let guarded: HttpMcpServer;
  beforeAll(async () => {
    streamable = await startHttpMcpServer({ tools: ['search', 'fetch'], sse: false });
    legacy = await startHttpMcpServer({ tools: ['old_tool'], streamable: false, name: 'legacy-sse' });
    guarded = await startHttpMcpServer({
      tools: ['private_tool'],
      requireAuthorization: 'Bearer guarded-token-value',
    });
  });
  afterAll(async () => {
    await Promise.all([streamable.close(), legacy.close(), guarded.close()]);
  });

  it('streamable HTTP: initialize + tools/list, never tools/call', async () => {
    const outcome = await introspectOne({ url: `${streamable.url}/mcp` });
    expect(outcome.introspection).toMatchObject({
      status: 'ok',
      tools: ['fetch', 'search'],
      server_name: 'http-test-server',
      server_version: '9.9.9',
    });
    expect(streamable.methods).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
  });

  it('legacy SSE (URL ending in /sse)', async () => {
    const outcome = await introspectOne({ url: `${legacy.url}/sse` });
    expect(outcome.introspection).toMatchObject({
      status: 'ok',
      tools: ['old_tool'],
      server_name: 'legacy-sse',
    });
    expect(legacy.methods).not.toContain('tools/call');
  });

  it('falls back from streamable HTTP to SSE when the server only speaks SSE', async () => {
    legacy.paths.length = 0;
    const outcome = await introspectOne({ type: 'http', url: `${legacy.url}/mcp` });
    expect(outcome.introspection).toMatchObject({ status: 'ok', tools: ['old_tool'] });
    expect(legacy.paths[0]).toBe('/mcp'); // the streamable POST came first
  });

  it('sends configured headers (placeholders expanded) and records 401 as auth required', async () => {
    const config = { url: `${guarded.url}/mcp`, headers: { Authorization: 'Bearer ${GUARDED_TOKEN}' } };
    const ok = await introspectOne(config, { environment: { GUARDED_TOKEN: 'guarded-token-value' } });
    expect(ok.introspection).toMatchObject({ status: 'ok', tools: ['private_tool'] });

    const refused = await introspectOne({ url: `${guarded.url}/mcp` });
    expect(refused).toMatchObject({
      introspection: { status: 'failed', error: 'HTTP 401 (authentication required)' },
      authRequired: true,
    });
  });

  it('URL userinfo is sent as Basic auth, not in the URL', async () => {
    const basic = await startHttpMcpServer({
      tools: ['basic_tool'],
      requireAuthorization: `Basic ${Buffer.from('svc:pa ss').toString('base64')}`,
    });
    try {
      const outcome = await introspectOne({
        url: basic.url.replace('http://', 'http://svc:pa%20ss@') + '/mcp',
      });
      expect(outcome.introspection).toMatchObject({ status: 'ok', tools: ['basic_tool'] });
    } finally {
      await basic.close();
    }
  });

  it('a remote server that never answers times out', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const outcome = await introspectOne({ url: `http://127.0.0.1:${port}/mcp` }, { timeoutMs: 800 });
      expect(outcome.introspection).toMatchObject({ status: 'failed', error: 'timed out after 0.8s' });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('a URL nobody listens on fails quickly with the network reason', async () => {
    const closed = await startHttpMcpServer();
    await closed.close();
    const outcome = await introspectOne({ url: `${closed.url}/mcp` });
    expect(outcome.introspection.status).toBe('failed');
    expect(outcome.introspection.error).toMatch(/ECONNREFUSED|fetch failed/);
  });
});
