import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CLI, waitFor } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * The proxy refuses what it cannot vouch for and survives it: garbage, huge frames, deep nesting, invalid UTF-8,
 * ids that are not ids, batches, duplicate members, requests without ids; a server that dies mid-call, floods
 * stdout or prints secrets. Every request gets an answer; stdout only ever carries JSON-RPC; no secret reaches
 * stderr or the log file.
 */
const node = process.execPath;
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
const EVERYTHING = path.resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SECRET = 'ghp_' + 'Z9y8X7w6V5u4T3s2R1q0'.repeat(2).slice(0, 36);

let root: string;
let env: NodeJS.ProcessEnv;
let driver: StdioDriver | undefined;

const proxy = (flags: string[], server: string[] = [node, SCRIPTED], extraEnv: NodeJS.ProcessEnv = {}) =>
  (driver = startStdio(
    node,
    [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), ...flags, '--', ...server],
    {
      ...env,
      ...extraEnv,
    },
  ));

const echo = async (d: StdioDriver, id: number, value = 'still alive') => {
  const answer = await d.request(id, 'tools/call', { name: 'echo', arguments: { text: value } });
  expect(answer.result?.content?.[0].text).toBe(value);
};

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-hostile-'));
  env = { PATH: process.env.PATH, HOME: root, LANG: 'C' };
});
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

describe('hostile client input', () => {
  it('answers garbage, bad ids, batches, duplicates, deep nesting and invalid UTF-8, and keeps relaying', async () => {
    const d = proxy(['--log', path.join(root, 'hostile.log')]);
    await d.handshake();
    d.send('this is not json\n');
    d.send('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"\n'); // truncated
    d.send('\n\n   \n');
    d.send({ jsonrpc: '2.0', id: { x: 1 }, method: 'tools/call', params: { name: 'echo' } });
    d.send({ jsonrpc: '2.0', id: null, method: 'tools/call', params: { name: 'echo' } });
    d.send({ jsonrpc: '1.0', id: 2, method: 'tools/call', params: { name: 'echo' } });
    d.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: 'nope' });
    d.send([
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo' } },
      { jsonrpc: '2.0', method: 'notifications/progress' },
    ]);
    d.send('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","name":"crash"}}\n');
    d.send(
      `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"x":${'['.repeat(200)}${']'.repeat(200)}}}}\n`,
    );
    d.send(
      Buffer.concat([
        Buffer.from(
          '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"',
        ),
        Buffer.from([0xc0, 0xae, 0xff]),
        Buffer.from('"}}}\n'),
      ]),
    );
    d.send({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'crash' } }); // a call without an id: dropped
    d.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } }); // forwarded

    await echo(d, 100);
    const errors = d.messages.filter((m) => m.error || Array.isArray(m));
    const byId = (id: unknown) => d.messages.find((m) => m.id === id);
    expect(
      d.messages
        .filter((m) => m.id === null)
        .map((m) => m.error?.code)
        .sort((a, b) => a! - b!),
    ).toEqual([-32700, -32700, -32600, -32600]);
    expect(byId(2)?.error?.code).toBe(-32600);
    expect(byId(3)?.error?.message).toMatch(/params must be an object/);
    expect(d.lines.some((l) => l.startsWith('[{') && l.includes('batches are not supported'))).toBe(true);
    expect(byId(5)?.error).toMatchObject({
      code: -32600,
      message: expect.stringContaining('duplicate member "name"'),
    });
    expect(byId(6)?.error?.message).toMatch(/nesting deeper than 128/);
    expect(byId(7)?.error?.message).toMatch(/not valid UTF-8/);
    expect(errors.length).toBeGreaterThanOrEqual(9);
    expect(d.child.exitCode).toBeNull(); // the server did not crash: neither the duplicate nor the id-less call reached it
    expect(d.stderr()).toMatch(/dropped "tools\/call" sent without an id/);
  }, 30_000);

  it('refuses a frame over --max-frame-bytes with an error for its id, without buffering it', async () => {
    const d = proxy(['--max-frame-bytes', '64KiB']);
    await d.handshake();
    const huge = 'A'.repeat(8 * 1024 * 1024);
    d.send(
      `{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"echo","arguments":{"text":"${huge}"}}}\n`,
    );
    const answer = await d.response('huge');
    expect(answer.error).toMatchObject({ code: -32007, data: { reason_code: 'frame_too_large' } });
    d.send(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"x":"${huge}"}}\n`);
    await echo(d, 2);
  }, 30_000);

  it('frames in one write see the calls before them on record: a repeated id is in flight, then a replay', async () => {
    const d = proxy([]);
    await d.handshake();
    const line = (id: number, text: string) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text } },
      });
    // One write: the proxy handles each frame right after writing the one before it on to the server.
    d.send(`${line(21, 'pay 10 EUR')}\n${line(21, 'pay 10 EUR')}\n${line(22, 'a')}\n${line(22, 'b')}\n`);
    await waitFor(() => d.messages.filter((m) => m.id === 21 || m.id === 22).length === 4, 15_000);
    for (const [id, text] of [
      [21, 'pay 10 EUR'],
      [22, 'a'],
    ] as const) {
      const answers = d.messages.filter((m) => m.id === id);
      expect(answers.map((m) => m.result?.content?.[0].text ?? m.error?.message).sort()).toEqual(
        [text, `id ${id} is already in flight`].sort(),
      );
    }
    // Answered now, so no longer in flight: the same frame again, alone or twice in one write, is a replay.
    d.messages.length = 0;
    d.send(`${line(21, 'pay 10 EUR')}\n${line(21, 'pay 10 EUR')}\n`);
    await waitFor(() => d.messages.filter((m) => m.id === 21).length === 2, 15_000);
    for (const answer of d.messages.filter((m) => m.id === 21)) {
      expect(answer.error).toMatchObject({ code: -32012, data: { reason_code: 'replay' } });
    }
    await echo(d, 23);
  }, 30_000);

  it('SDK-valid requests right after a flood still get answers in order', async () => {
    const d = proxy([]);
    await d.handshake();
    for (let i = 0; i < 500; i++)
      d.send({
        jsonrpc: '2.0',
        id: 1000 + i,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: `n${i}` } },
      });
    await waitFor(
      () => d.messages.filter((m) => typeof m.id === 'number' && m.id >= 1000).length === 500,
      20_000,
    );
    const texts = d.messages
      .filter((m) => typeof m.id === 'number' && m.id >= 1000)
      .map((m) => m.result?.content?.[0].text);
    expect(texts).toEqual(Array.from({ length: 500 }, (_, i) => `n${i}`));
  }, 30_000);
});

describe('hostile or broken servers', () => {
  it('a server that dies mid-call: the pending request gets an error, the proxy exits with its status', async () => {
    const d = proxy([]);
    await d.handshake();
    d.send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'slow' } });
    d.send({ jsonrpc: '2.0', id: 'boom', method: 'tools/call', params: { name: 'crash' } });
    const [slow, boom] = [await d.response('slow'), await d.response('boom')];
    for (const answer of [slow, boom]) {
      expect(answer.error).toMatchObject({
        code: -32005,
        message: expect.stringContaining('exited (code 3) before answering'),
      });
    }
    expect((await d.exited).code).toBe(3);
  }, 30_000);

  it('a server that floods stdout with noise: dropped, bounded, the real answer still arrives', async () => {
    const d = proxy(['--max-frame-bytes', '256KiB'], [node, SCRIPTED], { FLOOD_MB: '16' });
    await d.handshake();
    const answer = await d.request(1, 'tools/call', { name: 'flood' });
    expect(answer.result?.content?.[0].text).toBe('flooded');
    expect(d.lines.every((line) => line.startsWith('{') || line.startsWith('['))).toBe(true);
    expect(d.stderr()).toMatch(/dropped a line that is not JSON .* stdout is for the protocol/);
    await echo(d, 2);
  }, 60_000);

  it('secrets printed by the server, sent in arguments or returned never reach stderr or the log', async () => {
    const log = path.join(root, 'secrets.log');
    const d = proxy(['--detect-credentials', '--log', log, '--log-level', 'debug'], [node, SCRIPTED], {
      PLANTED_SECRET: SECRET,
    });
    await d.handshake();
    const denied = await d.request(1, 'tools/call', { name: 'echo', arguments: { text: `token=${SECRET}` } });
    expect(denied.error?.code).toBe(-32013);
    const returned = await d.request(2, 'tools/call', { name: 'secret' });
    expect(returned.result?.content?.[0].text).toBe(
      'config: aws_access_key_id=[REDACTED:github_token] region=eu-west-1',
    );
    await d.close();
    driver = undefined;
    const logged = await fs.readFile(log, 'utf8');
    expect(logged).toContain('"type":"response.redacted"');
    expect(logged).toContain('"type":"tool_call.denied"');
    for (const output of [d.stderr(), logged]) expect(output).not.toContain(SECRET);
    expect(d.stderr()).toContain('starting with token [REDACTED:github_token]');
  }, 30_000);

  it('propagates the exit status and forwards SIGTERM to the server', async () => {
    const d = proxy([], [node, SCRIPTED], { SIGTERM_EXIT: '7' });
    await d.handshake();
    d.child.kill('SIGTERM');
    const exit = await d.exited;
    expect(exit.code).toBe(7);
    expect(d.stderr()).toContain('scripted-mcp: got SIGTERM');
    driver = undefined;
  }, 30_000);

  it('a server that cannot be started: exit 127 and a clear message', async () => {
    const d = proxy([], ['/nonexistent/mcp-server']);
    const exit = await d.exited;
    expect(exit.code).toBe(127);
    expect(d.stderr()).toMatch(/cannot start the MCP server "\/nonexistent\/mcp-server": ENOENT/);
    driver = undefined;
  }, 30_000);

  it('server-everything: stdin closing ends the session cleanly with exit 0', async () => {
    const d = proxy([], [node, EVERYTHING, 'stdio']);
    await d.handshake();
    d.child.stdin!.end();
    expect((await d.exited).code).toBe(0);
    expect(d.lines.every((line) => JSON.parse(line))).toBeTruthy();
    driver = undefined;
  }, 30_000);
});

describe('start-up refusals', () => {
  it('a --log path that is a symlink is refused (exit 2), the link target untouched', async () => {
    const target = path.join(root, 'target.txt');
    await fs.writeFile(target, 'keep me');
    await fs.symlink(target, path.join(root, 'evil.log'));
    const d = proxy(['--log', path.join(root, 'evil.log')]);
    expect((await d.exited).code).toBe(2);
    expect(d.stderr()).toMatch(/cannot open the log file/);
    expect(await fs.readFile(target, 'utf8')).toBe('keep me');
    driver = undefined;
  }, 30_000);

  it('an invalid --policy is refused (exit 2) naming the rule and field; the server never starts', async () => {
    const file = path.join(root, 'bad-policy.json');
    await fs.writeFile(file, JSON.stringify({ version: 1, rules: [{ id: 'r1', effect: 'explode' }] }));
    const started = path.join(root, 'bad-policy.pid');
    const d = proxy(['--policy', file], [node, SCRIPTED], { STARTED_FILE: started });
    expect((await d.exited).code).toBe(2);
    expect(d.stderr()).toMatch(/--policy .*bad-policy\.json: rules\[0\].*effect/);
    await expect(fs.stat(started)).rejects.toThrow();
    driver = undefined;
  }, 30_000);
});
