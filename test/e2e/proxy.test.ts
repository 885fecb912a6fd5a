import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { scanShape, withTraceparent } from '../../libs/runtime/src/index.js';
import { CLI, waitFor } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * `agent-bom proxy` as an MCP client sees it: the built CLI wrapping the real reference servers from npm, driven
 * by the real SDK client over stdio and by the MCP Inspector's CLI. Listing and calling are unchanged; the
 * proxy's checks answer with JSON-RPC errors that name their rule.
 */
const node = process.execPath;
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
// AWS's documented example key id and a PEM-shaped private key: test values, never real credentials.
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const PEM =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----';

let root: string;
let workspace: string;
let env: Record<string, string>;
const clients: Client[] = [];

async function connect(
  command: string[],
  proxyFlags: string[] | null,
): Promise<{ client: Client; stderr: () => string }> {
  const args =
    proxyFlags === null
      ? command.slice(1)
      : [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), ...proxyFlags, '--', ...command];
  const transport = new StdioClientTransport({
    command: proxyFlags === null ? command[0] : node,
    args,
    env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr += chunk));
  const client = new Client({ name: 'proxy-e2e', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}

const text = (result: unknown) =>
  ((result as { content: Array<{ type: string; text?: string }> }).content ?? [])
    .map((c) => c.text ?? '')
    .join('\n');

async function mcpError(call: Promise<unknown>): Promise<McpError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-e2e-'));
  workspace = path.join(root, 'workspace');
  await fs.mkdir(workspace);
  await fs.writeFile(path.join(workspace, 'notes.md'), '# notes\nnothing secret here\n');
  await fs.writeFile(
    path.join(workspace, 'deploy.env'),
    `AWS_ACCESS_KEY_ID=${AWS_KEY}\nREGION=eu-west-1\n${PEM}\n`,
  );
  env = { PATH: process.env.PATH ?? '', HOME: root, LANG: 'C' };
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await fs.rm(root, { recursive: true, force: true });
});

describe('server-everything behind the proxy', () => {
  it('lists the same tools and echoes the same answer as the server alone', async () => {
    const direct = await connect([node, EVERYTHING, 'stdio'], null);
    const proxied = await connect(
      [node, EVERYTHING, 'stdio'],
      ['--detect-credentials', '--block-undeclared'],
    );
    const [a, b] = await Promise.all([direct.client.listTools(), proxied.client.listTools()]);
    expect(b.tools).toEqual(a.tools);
    expect(b.tools.map((t) => t.name)).toContain('echo');
    const echo = await proxied.client.callTool({
      name: 'echo',
      arguments: { message: 'hello through the proxy' },
    });
    expect(echo).toEqual(
      await direct.client.callTool({ name: 'echo', arguments: { message: 'hello through the proxy' } }),
    );
    expect(proxied.client.getServerVersion()).toEqual(direct.client.getServerVersion());
  }, 60_000);

  it('--block-undeclared refuses a tool the server never listed, naming it', async () => {
    const { client } = await connect([node, EVERYTHING, 'stdio'], ['--block-undeclared']);
    await client.listTools();
    const error = await mcpError(client.callTool({ name: 'rm_rf', arguments: {} }));
    expect(error.code).toBe(-32011);
    expect(error.message).toContain('tool "rm_rf" is not declared');
    expect(error.data).toMatchObject({ reason_code: 'undeclared_tool' });
  }, 60_000);
});

describe('server-filesystem behind the proxy', () => {
  let policyFile: string;
  beforeAll(async () => {
    policyFile = path.join(root, 'policy.json');
    await fs.writeFile(
      policyFile,
      JSON.stringify({
        version: 1,
        rules: [
          {
            id: 'no-writes',
            description: 'read-only workspace',
            effect: 'deny',
            tools: ['write_file', 'edit_file', 'move_file'],
          },
          { id: 'no-secrets', effect: 'deny', priority: 1000, secret_paths: true },
        ],
      }),
    );
  });

  it('reads files unchanged, and denies writes with a JSON-RPC error naming the rule', async () => {
    const { client, stderr } = await connect([node, FILESYSTEM, workspace], ['--policy', policyFile]);
    const notes = await client.callTool({
      name: 'read_text_file',
      arguments: { path: path.join(workspace, 'notes.md') },
    });
    expect(text(notes)).toBe('# notes\nnothing secret here\n');
    const error = await mcpError(
      client.callTool({ name: 'write_file', arguments: { path: path.join(workspace, 'x'), content: 'x' } }),
    );
    expect(error.code).toBe(-32001);
    expect(error.message).toMatch(/denied by local policy rule "no-writes"/);
    expect(error.data).toMatchObject({
      reason_code: 'policy_denied',
      rule_id: 'no-writes',
      policy_source: 'local',
    });
    expect(error.data).toHaveProperty('trace_id', expect.stringMatching(/^[0-9a-f]{32}$/));
    await expect(fs.stat(path.join(workspace, 'x'))).rejects.toThrow();
    expect(stderr()).toContain('no-writes');
  }, 60_000);

  it('a --policy file changed mid-session is reloaded; a broken or oversized change keeps the last good policy', async () => {
    const file = path.join(root, 'reloaded-policy.json');
    const deny = (tool: string) =>
      JSON.stringify({ version: 1, rules: [{ id: `no-${tool}`, effect: 'deny', tools: [tool] }] });
    await fs.writeFile(file, deny('write_file'));
    const { client, stderr } = await connect([node, FILESYSTEM, workspace], ['--policy', file]);
    const read = () =>
      client.callTool({ name: 'read_text_file', arguments: { path: path.join(workspace, 'notes.md') } }).then(
        () => 'allowed',
        (e: unknown) => (e instanceof McpError ? `denied ${e.code}` : 'other'),
      );
    expect(await read()).toBe('allowed');
    await fs.writeFile(file, deny('read_text_file'));
    await waitFor(async () => (await read()) === 'denied -32001', 10_000);
    expect(stderr()).toMatch(/policy reloaded from .*reloaded-policy\.json \(sha256:[0-9a-f]{16}\)/);
    await fs.writeFile(file, '{"version": 1, "rules": [{"id": "x", "effect": "explode"}]}');
    await waitFor(
      () => /reloaded-policy\.json refused, keeping the last good policy: rules\[0\]/.test(stderr()),
      10_000,
    );
    // Replaced atomically (a 10 MiB write seen half-way would be a smaller, valid policy).
    await fs.writeFile(`${file}.new`, deny('write_file') + ' '.repeat(10 * 1024 * 1024 + 1));
    await fs.rename(`${file}.new`, file);
    await waitFor(() => /refused, keeping the last good policy: larger than 10 MiB/.test(stderr()), 10_000);
    expect(await read()).toBe('denied -32001');
  }, 60_000);

  it('a secret planted in a file is redacted in the response; the server alone shows it', async () => {
    const file = path.join(workspace, 'deploy.env');
    const direct = await connect([node, FILESYSTEM, workspace], null);
    expect(
      text(await direct.client.callTool({ name: 'read_text_file', arguments: { path: file } })),
    ).toContain(AWS_KEY);

    const { client, stderr } = await connect([node, FILESYSTEM, workspace], ['--detect-credentials']);
    const result = await client.callTool({ name: 'read_text_file', arguments: { path: file } });
    expect(text(result)).toBe(
      'AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id]\nREGION=eu-west-1\n[REDACTED:private_key]\n',
    );
    // content and structuredContent both carry the text: 2 secrets, 4 redactions.
    expect(stderr()).toMatch(/redacted 4 value\(s\) in the response to tools\/call "read_text_file"/);
    expect(stderr()).not.toContain(AWS_KEY);
    expect(stderr()).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
  }, 60_000);

  it('--credential-action block withholds the whole response instead', async () => {
    const { client } = await connect(
      [node, FILESYSTEM, workspace],
      ['--detect-credentials', '--credential-action', 'block'],
    );
    const error = await mcpError(
      client.callTool({ name: 'read_text_file', arguments: { path: path.join(workspace, 'deploy.env') } }),
    );
    expect(error.code).toBe(-32015);
    expect(error.data).toMatchObject({
      reason_code: 'response_blocked',
      detectors: ['aws_access_key_id', 'private_key'],
    });
  }, 60_000);

  it('argument detectors block traversal and secret paths before the server sees them', async () => {
    const { client } = await connect([node, FILESYSTEM, workspace], []);
    const traversal = await mcpError(
      client.callTool({ name: 'read_text_file', arguments: { path: `${workspace}/../../../etc/passwd` } }),
    );
    expect(traversal.code).toBe(-32013);
    expect(traversal.data).toMatchObject({ detectors: ['path_traversal'] });
    const ssh = await mcpError(
      client.callTool({ name: 'read_text_file', arguments: { path: '~/.ssh/id_ed25519' } }),
    );
    expect(ssh.data).toMatchObject({ detectors: ['secret_path'] });
  }, 60_000);
});

describe('the wire, seen raw', () => {
  let driver: StdioDriver;
  afterAll(async () => driver?.close());

  it('replays are refused; the same id with another payload after its answer is fine', async () => {
    driver = startStdio(
      node,
      [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), '--', node, SCRIPTED],
      env,
    );
    await driver.handshake();
    const call = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'pay 10 EUR' } },
    };
    driver.send(call);
    expect((await driver.response(7)).result?.content?.[0].text).toBe('pay 10 EUR');
    driver.messages.length = 0;
    driver.send(call);
    const replay = await driver.response(7);
    expect(replay.error).toMatchObject({ code: -32012, data: { reason_code: 'replay' } });
    driver.messages.length = 0;
    driver.send({ ...call, params: { name: 'echo', arguments: { text: 'something else' } } });
    expect((await driver.response(7)).result?.content?.[0].text).toBe('something else');
  }, 30_000);

  it('trace context: a client traceparent reaches the server unchanged; a missing one is added', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    driver.send({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'meta', _meta: { traceparent, progressToken: 8 } },
    });
    expect(JSON.parse((await driver.response(8)).result!.content![0].text!)).toEqual({
      traceparent,
      progressToken: 8,
    });
    driver.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'meta' } });
    const added = JSON.parse((await driver.response(9)).result!.content![0].text!);
    expect(added.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  }, 30_000);

  it('forwards frames it does not change byte for byte (odd spacing, escapes, number forms)', async () => {
    const line =
      '{ "jsonrpc" : "2.0" , "id" : "byte-1" , "method" : "tools/call" , "params" : { "name" : "raw" , "arguments" : { "text" : "caf\\u00e9 \\ud83d\\ude00 \\/", "n" : 1.50e2, "big": 123456789012345678901 } , "_meta" : { "traceparent" : "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } } }';
    driver.send(line + '\n');
    const answer = await driver.response('byte-1');
    expect(answer.result!.content![0].text).toBe(line);
  }, 30_000);

  it.each([
    [
      'an ASCII frame with odd spacing',
      '{ "jsonrpc" : "2.0" , "id" : "splice-1" , "method" : "tools/call" , "params" : { "name" : "raw" , "arguments" : { "n" : 1.50e2 } } }',
    ],
    [
      'a frame with multi-byte characters',
      '{"jsonrpc":"2.0","id":"splice-2","method":"tools/call","params":{"name":"raw","arguments":{"text":"café 😀 ünï"}}}',
    ],
    [
      'a frame with an empty _meta',
      '{"jsonrpc":"2.0","id":"splice-3","method":"tools/call","params":{"_meta":{},"name":"raw","arguments":{"a":"b"}}}',
    ],
    [
      'a frame whose _meta has other members',
      '{"jsonrpc":"2.0","id":"splice-4","method":"tools/call","params":{"name":"raw","_meta":{"progressToken":"é1"}}}',
    ],
  ])(
    'splices a missing traceparent into %s and changes no other byte',
    async (_what, line) => {
      driver.send(line + '\n');
      const id = (JSON.parse(line) as { id: string }).id;
      const received = (await driver.response(id)).result!.content![0].text!;
      const traceparent = /"traceparent":"(00-[0-9a-f]{32}-[0-9a-f]{16}-01)"/.exec(received)?.[1];
      expect(traceparent).toBeDefined();
      expect(received).toBe(withTraceparent(line, scanShape(line), traceparent!));
    },
    30_000,
  );
});

describe('declared tools, drift and rate limits', () => {
  const drivers: StdioDriver[] = [];
  afterAll(async () => Promise.all(drivers.map((d) => d.close())));
  const start = (flags: string[], extra: Record<string, string> = {}) => {
    const d = startStdio(
      node,
      [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), ...flags, '--', node, SCRIPTED],
      { ...env, ...extra },
    );
    drivers.push(d);
    return d;
  };

  it('--block-undeclared before any tools/list: the proxy lists the tools itself, then decides', async () => {
    const d = start(['--block-undeclared']);
    await d.handshake();
    expect(
      (await d.request(1, 'tools/call', { name: 'echo', arguments: { text: 'first' } })).result?.content?.[0]
        .text,
    ).toBe('first');
    expect((await d.request(2, 'tools/call', { name: 'not_a_tool' })).error?.code).toBe(-32011);
    expect(d.messages.some((m) => typeof m.id === 'string' && m.id.startsWith('agent-bom-proxy:'))).toBe(
      false,
    );
  }, 30_000);

  it('tool drift is flagged; with --block-drift the changed and added tools are withheld and refused', async () => {
    const log = path.join(root, 'drift.log');
    const d = start(['--block-drift', '--log', log], { DRIFT: '1' });
    await d.handshake();
    const first = await d.request(1, 'tools/list');
    expect(first.result?.tools?.map((t) => t.name)).toContain('echo');
    const second = await d.request(2, 'tools/list');
    const names = second.result?.tools?.map((t) => t.name) ?? [];
    expect(names).not.toContain('echo');
    expect(names).not.toContain('exfiltrate');
    expect(names).toContain('meta');
    const refused = await d.request(3, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    expect(refused.error).toMatchObject({
      code: -32016,
      message: expect.stringContaining('"echo" was changed after the first tools/list'),
    });
    expect((await d.request(4, 'tools/call', { name: 'exfiltrate' })).error?.code).toBe(-32016);
    await d.close();
    const events = (await fs.readFile(log, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"tool.drift"'))
      .map((l) => JSON.parse(l).event);
    expect(events.map((e) => `${e.tool}:${e.reason}`).sort()).toEqual([
      'echo:tool changed after the first tools/list',
      'exfiltrate:tool added after the first tools/list',
    ]);
    expect(events[0].previous_tool_fingerprint).not.toBe(events[0].tool_fingerprint);
  }, 30_000);

  it('without --block-drift the new definition is forwarded and calls still work (flag only)', async () => {
    const d = start([], { DRIFT: '1' });
    await d.handshake();
    await d.request(1, 'tools/list');
    const second = await d.request(2, 'tools/list');
    expect(second.result?.tools?.map((t) => t.name)).toContain('exfiltrate');
    expect(d.stderr()).toMatch(/tool drift: "echo" was changed/);
    expect(
      (await d.request(3, 'tools/call', { name: 'echo', arguments: { text: 'y' } })).result,
    ).toBeDefined();
  }, 30_000);

  it('a server whose tools changed since the previous session is flagged (never blocked), once', async () => {
    const cache = path.join(root, 'baseline-cache');
    const session = async (description?: string) => {
      const d = startStdio(
        node,
        [CLI, 'proxy', '--cache-dir', cache, '--block-drift', '--', node, SCRIPTED],
        {
          ...env,
          ...(description ? { ECHO_DESCRIPTION: description } : {}),
        },
      );
      await d.handshake();
      await d.request(1, 'tools/list');
      const call = await d.request(2, 'tools/call', { name: 'echo', arguments: { text: 'ok' } });
      await d.close();
      return { stderr: d.stderr(), call };
    };
    expect((await session()).stderr).not.toMatch(/tool drift/);
    const updated = await session('Echo, now also uploads what it echoes');
    expect(updated.stderr).toMatch(
      /tool drift: "echo" was changed since the previous session with this server/,
    );
    expect(updated.call.result?.content?.[0].text).toBe('ok');
    expect((await session('Echo, now also uploads what it echoes')).stderr).not.toMatch(/tool drift/);
    const [file] = await fs.readdir(path.join(cache, 'proxy', 'tools'));
    const saved = await fs.readFile(path.join(cache, 'proxy', 'tools', file), 'utf8');
    expect(saved).not.toContain(SCRIPTED);
    expect(JSON.parse(saved).tools.echo).toMatch(/^sha256:[0-9a-f]{64}$/);
  }, 60_000);

  it('--rate-limit: the call over the limit is refused with a retry hint; other tools are unaffected', async () => {
    const d = start(['--rate-limit', '2/min']);
    await d.handshake();
    for (const id of [1, 2])
      expect(
        (await d.request(id, 'tools/call', { name: 'echo', arguments: { text: 'a' } })).result,
      ).toBeDefined();
    const limited = await d.request(3, 'tools/call', { name: 'echo', arguments: { text: 'a' } });
    expect(limited.error).toMatchObject({
      code: -32004,
      data: { reason_code: 'rate_limited', retry_after_ms: expect.any(Number) },
    });
    expect((await d.request(4, 'tools/call', { name: 'meta' })).result).toBeDefined();
  }, 30_000);
});

describe('MCP Inspector CLI through the proxy', () => {
  const run = promisify(execFile);
  const inspector = path.resolve('node_modules/.bin/mcp-inspector');
  const proxy = [CLI, 'proxy', '--cache-dir', '', '--detect-credentials', '--', node, EVERYTHING, 'stdio'];

  it('tools/list and tools/call work offline', async () => {
    proxy[3] = path.join(root, 'cache');
    const list = await run(inspector, ['--cli', node, ...proxy, '--method', 'tools/list'], {
      env,
      timeout: 60_000,
    });
    expect(JSON.parse(list.stdout).tools.map((t: { name: string }) => t.name)).toContain('echo');
    const call = await run(
      inspector,
      [
        '--cli',
        node,
        ...proxy,
        '--method',
        'tools/call',
        '--tool-name',
        'echo',
        '--tool-arg',
        'message=inspected',
      ],
      { env, timeout: 60_000 },
    );
    expect(JSON.parse(call.stdout).content[0].text).toBe('Echo: inspected');
  }, 120_000);
});
