import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CLI } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/** Reproductions of the runtime review's proxy findings (#16 item 5), against the real proxy process. */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');

let root: string;
let env: NodeJS.ProcessEnv;
let driver: StdioDriver | undefined;
const proxy = (flags: string[]) =>
  (driver = startStdio(
    node,
    [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), ...flags, '--', node, SCRIPTED],
    env,
  ));

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-findings-'));
  env = { PATH: process.env.PATH, HOME: root, LANG: 'C' };
});
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

describe('proxy: runtime review findings', () => {
  it('a replay is still refused after 10,001 pings (cheap messages do not evict the replay memory)', async () => {
    const d = proxy([]);
    await d.handshake();
    const call = {
      jsonrpc: '2.0',
      id: 'pay-1',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'pay 10 EUR' } },
    };
    d.send(call);
    expect((await d.response('pay-1')).result?.content?.[0].text).toBe('pay 10 EUR');
    let frames = '';
    for (let i = 0; i < 10_001; i++)
      frames += `${JSON.stringify({ jsonrpc: '2.0', id: `p${i}`, method: 'ping' })}\n`;
    d.send(Buffer.from(frames));
    await d.response('p10000');
    d.messages.length = 0;
    d.send(call);
    expect((await d.response('pay-1')).error).toMatchObject({
      code: -32012,
      data: { reason_code: 'replay' },
    });
  }, 60_000);

  it('--block-undeclared serves a stateless 2026-07-28 client that calls a tool without listing first', async () => {
    const d = proxy(['--block-undeclared']);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'stateless', version: '1' },
    };
    d.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' }, _meta: meta },
    });
    const answer = await d.response(1);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.content?.[0].text).toBe('hi');
    d.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'not_listed', arguments: {}, _meta: meta },
    });
    expect((await d.response(2)).error?.message).toMatch(/not_listed/);
  }, 30_000);

  it('a denial names the policy and the rule once, with its condition', async () => {
    const policy = path.join(root, 'policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({
        version: 1,
        rules: [
          {
            id: 'no-pay',
            effect: 'deny',
            tools: ['echo'],
            arguments: [{ path: '$.text', op: 'contains', value: 'EUR' }],
          },
        ],
      }),
    );
    const d = proxy(['--policy', policy]);
    await d.handshake();
    const answer = await d.request(5, 'tools/call', { name: 'echo', arguments: { text: 'pay 10 EUR' } });
    const message = answer.error?.message ?? '';
    expect(message).toMatch(/^denied by local policy rule "no-pay"/);
    expect(message.match(/denied by/g)).toHaveLength(1);
    expect(message).toMatch(/text/);
  }, 30_000);

  it('a symlink past secret_paths: the argument check cannot see it, the response is redacted by default', async () => {
    const served = path.join(root, 'served');
    const secrets = path.join(root, '.ssh');
    await fs.mkdir(served, { recursive: true });
    await fs.mkdir(secrets, { recursive: true });
    const token = 'ghp_' + 'Q1w2E3r4T5y6U7i8O9p0'.repeat(2).slice(0, 36);
    await fs.writeFile(path.join(secrets, 'id_rsa'), `token=${token}\n`);
    await fs.symlink(path.join(secrets, 'id_rsa'), path.join(served, 'notes.txt'));
    const policy = path.join(root, 'secret-paths.json');
    await fs.writeFile(
      policy,
      JSON.stringify({ version: 1, rules: [{ id: 'no-secrets', effect: 'deny', secret_paths: true }] }),
    );
    const FILESYSTEM = path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
    driver = startStdio(
      node,
      [
        CLI,
        'proxy',
        '--cache-dir',
        path.join(root, 'cache'),
        '--policy',
        policy,
        '--',
        node,
        FILESYSTEM,
        root,
      ],
      env,
    );
    await driver.handshake();
    const answer = await driver.request(1, 'tools/call', {
      name: 'read_text_file',
      arguments: { path: path.join(served, 'notes.txt') },
    });
    const text = JSON.stringify(answer);
    expect(text).not.toContain(token);
    expect(text).toMatch(/REDACTED/);
  }, 30_000);

  it('bad-input: an insecure control-plane URL is a usage error (exit 2)', () => {
    const run = spawnSync(
      node,
      [
        CLI,
        'proxy',
        '--control-plane-url',
        'http://cp.example.com',
        '--control-plane-token',
        `abom_${'x'.repeat(43)}`,
        '--',
        node,
        SCRIPTED,
      ],
      { env, encoding: 'utf8', timeout: 20_000, input: '' },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--control-plane-url: .*use https/);
  });
});
