/**
 * docs/gateway.md "Connecting a client": the SDK snippet and the bridge config entry, taken from the document
 * and run as written against a real `agent-bom gateway serve` fronting the conformance test server.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { gatewayHasEgressAllow } from '../conformance/harness.mjs';

const DOC = readFileSync(path.resolve('docs/gateway.md'), 'utf8');
const TOKEN = randomBytes(24).toString('hex');

/** The fenced block that follows `<!-- snippet:NAME … -->` in docs/gateway.md. */
function snippet(name: string): string {
  const at = DOC.indexOf(`<!-- snippet:${name}`);
  if (at < 0) throw new Error(`docs/gateway.md has no snippet ${name}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(DOC.slice(at));
  if (!match) throw new Error(`snippet ${name} has no code block`);
  return match[1]!;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: { url: string; stop(): Promise<void> };
let gateway: GatewayProcess;
let work: string;

beforeAll(async () => {
  const child = spawn(process.execPath, [path.resolve('test/fixtures/conformance/server.mjs'), '--http'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`conformance server did not start: ${output}`)), 20_000);
    child.stdout.on('data', (d) => {
      output += d;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  server = {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
  work = mkdtempSync(path.join(tmpdir(), 'agent-bom-connect-'));
  symlinkSync(path.resolve('node_modules'), path.join(work, 'node_modules'), 'dir');
  const overlay = path.join(work, 'upstreams.yaml');
  writeFileSync(
    overlay,
    `upstreams:\n  - name: github\n    url: ${url}/mcp\n    auth: none\n    transport: streamable-http\n`,
  );
  const egress = gatewayHasEgressAllow() ? ['--egress-allow', '127.0.0.1/32'] : [];
  gateway = await startGateway(['--bind', '127.0.0.1:0', '--upstreams', overlay, ...egress], {
    ...process.env,
    AGENT_BOM_GATEWAY_BEARER_TOKEN: TOKEN,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('docs/gateway.md: connecting a client', () => {
  it('the SDK snippet lists the upstream tools through the gateway with the bearer credential', async () => {
    const file = path.join(work, 'sdk-client.mjs');
    writeFileSync(file, snippet('sdk-client'));
    const ok = await run(
      process.execPath,
      [file],
      { AGENT_BOM_GATEWAY_URL: gateway.url, AGENT_BOM_API_KEY: TOKEN },
      work,
    );
    expect(ok.stderr).not.toMatch(/Error/);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('test_simple_text');
    expect(ok.stdout).toContain('test_input_required_result_elicitation');
  });

  it('the same snippet with a wrong credential is refused (401), not relayed', async () => {
    const file = path.join(work, 'sdk-client.mjs');
    const refused = await run(
      process.execPath,
      [file],
      { AGENT_BOM_GATEWAY_URL: gateway.url, AGENT_BOM_API_KEY: 'not-the-token-0123456789' },
      work,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('test_simple_text');
    expect(`${refused.stderr}`).toMatch(/401|nauthori[sz]ed|invalid_token/i);
  });

  it('the supergateway config entry bridges a stdio client to the gateway', async () => {
    const config = JSON.parse(snippet('bridge-config')) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    const entry = config.mcpServers.github!;
    expect(entry.command).toBe('npx');
    const args = entry.args
      .slice(entry.args.indexOf('supergateway') + 1)
      .map((arg) =>
        arg.replace('https://mcp-gateway.internal.example.com', gateway.url).replace('abom_…', TOKEN),
      );
    const client = new Client({ name: 'bridge-config', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [path.resolve('node_modules/supergateway/dist/index.js'), ...args],
        stderr: 'ignore',
      }),
    );
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toContain('test_simple_text');
      const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    } finally {
      await client.close();
    }
  });

  it('the inspector reaches the gateway through the bridge (it cannot send the header itself)', async () => {
    const words = snippet('inspector-bridge')
      .replace(/\\\n/g, ' ')
      .trim()
      .split(/\s+/)
      .map((word) =>
        word.replace('https://mcp-gateway.internal.example.com', gateway.url).replace('abom_…', TOKEN),
      );
    expect(words[0]).toBe('npx');
    // npx resolves the inspector and supergateway from this repository's node_modules (no download)
    const listed = await run('npx', words.slice(1), {}, path.resolve('.'));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('test_simple_text');
  }, 60_000);
});
