import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { RuntimeAuditEvent } from '../../libs/contracts/src/index.js';
import { CLI, runCli } from '../helpers/processes.js';
import { startStdio, type StdioDriver } from '../helpers/stdio-driver.js';

/**
 * `agent-bom proxy --audit-file`: the built proxy in front of a scripted stdio server, without a control plane.
 * Every call leaves exactly one record, written once the server answered (or could not), with its outcome; the
 * file is rotated at its bound; a token planted in arguments appears in no record.
 */
const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');
// A GitHub-token-shaped test value (never a real credential).
const TOKEN = 'ghp_' + 'Q7wErTy9'.repeat(4) + 'Zx8K';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

let root: string;
let driver: StdioDriver | undefined;

const records = async (file: string): Promise<Array<RuntimeAuditEvent & Record<string, unknown>>> => {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RuntimeAuditEvent & Record<string, unknown>);
};
const forId = (all: RuntimeAuditEvent[], id: number) => all.filter((e) => e.request_id === String(id));

function proxy(flags: string[], env: Record<string, string> = {}): StdioDriver {
  return startStdio(
    process.execPath,
    [CLI, 'proxy', '--cache-dir', path.join(root, 'cache'), ...flags, '--', process.execPath, SCRIPTED],
    { PATH: process.env.PATH, HOME: root, LANG: 'C', ...env },
  );
}
const call = (d: StdioDriver, id: number, name: string, args: object = {}) =>
  d.request(id, 'tools/call', { name, arguments: args });

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-proxy-audit-'));
});
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

describe('proxy --audit-file', () => {
  it('records each call once, after the answer, with its outcome; no secret values', async () => {
    const file = path.join(root, 'outcomes.jsonl');
    const policy = path.join(root, 'policy.json');
    await fs.writeFile(
      policy,
      JSON.stringify({
        version: 1,
        rules: [
          {
            id: 'no-tokens-in-post',
            effect: 'deny',
            tools: ['post'],
            arguments: [{ path: '$.text', op: 'regex', value: '/ghp_/' }],
          },
        ],
      }),
    );
    const d = (driver = proxy(
      ['--audit-file', file, '--policy', policy, '--detect-credentials', '--rate-limit', '1'],
      { PLANTED_SECRET: AWS_KEY },
    ));
    await d.handshake();

    // Allowed, and not answered yet: nothing is recorded before the server answers.
    d.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow', arguments: { q: 'x' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(forId(await records(file), 1)).toEqual([]);
    await d.response(1);

    expect((await call(d, 2, 'echo', { text: 'hello' })).result).toBeDefined();
    // denied (a tool not called before: the rate limit, checked first, would refuse a second `echo`)
    expect((await call(d, 3, 'post', { text: `use ${TOKEN}` })).error).toBeDefined();
    expect((await call(d, 4, 'secret')).result).toBeDefined(); // redacted
    expect((await call(d, 5, 'meta')).result).toBeDefined();
    expect((await call(d, 6, 'meta')).error).toBeDefined(); // rate-limited
    expect((await call(d, 7, 'nope')).error?.code).toBe(-32602); // the server answered with an error
    d.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'crash', arguments: {} } });
    await d.response(8); // the proxy answers for the server that died
    await d.close();
    driver = undefined;

    const all = await records(file);
    const one = (id: number) => {
      const found = forId(all, id);
      expect(found).toHaveLength(1);
      return found[0];
    };
    expect(one(1)).toMatchObject({ type: 'tool_call.allowed', tool: 'slow', outcome: 'answered' });
    expect(one(2)).toMatchObject({ type: 'tool_call.allowed', tool: 'echo', outcome: 'answered' });
    expect(one(3)).toMatchObject({ type: 'tool_call.denied', tool: 'post' });
    expect(one(3).outcome).toBeUndefined();
    expect(one(4)).toMatchObject({ type: 'response.redacted', tool: 'secret', outcome: 'answered' });
    expect(one(5)).toMatchObject({ type: 'tool_call.allowed', tool: 'meta', outcome: 'answered' });
    expect(one(6)).toMatchObject({ type: 'rate_limit.exceeded', tool: 'meta' });
    expect(one(7)).toMatchObject({
      type: 'tool_call.allowed',
      outcome: 'error',
      error_class: 'jsonrpc_-32602',
    });
    expect(one(8)).toMatchObject({ type: 'tool_call.allowed', tool: 'crash', outcome: 'upstream_failed' });
    expect(one(8).error_class).toBe('server_exited');
    for (const event of all) {
      expect(event.event_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof event.session_id).toBe('string');
    }
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(AWS_KEY);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('rotates at the size bound and keeps the configured number of files', async () => {
    const file = path.join(root, 'rotating.jsonl');
    const d = (driver = proxy([
      '--audit-file',
      file,
      '--audit-file-max-size',
      '4KiB',
      '--audit-file-keep',
      '2',
    ]));
    await d.handshake();
    for (let id = 1; id <= 60; id++) await call(d, id, 'echo', { text: `call ${id}` });
    await d.close();
    driver = undefined;
    const names = (await fs.readdir(root)).filter((n) => n.startsWith('rotating.jsonl')).sort();
    expect(names).toEqual(['rotating.jsonl', 'rotating.jsonl.1', 'rotating.jsonl.2']);
    const kept = [];
    for (const name of names) {
      expect((await fs.stat(path.join(root, name))).size).toBeLessThanOrEqual(4096);
      kept.push(...(await records(path.join(root, name))));
    }
    // The newest calls are all there, each once; the oldest rotated out.
    const ids = kept.filter((e) => e.type === 'tool_call.allowed').map((e) => Number(e.request_id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(60);
    expect(ids).not.toContain(1);
  });

  it('refuses bad flags with a usage error', async () => {
    const bad = await runCli(
      ['proxy', '--audit-file', path.join(root, 'x.jsonl'), '--audit-file-max-size', 'huge', '--', 'true'],
      { PATH: process.env.PATH, HOME: root },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--audit-file-max-size must be a size');
    const orphan = await runCli(['proxy', '--audit-file-keep', '3', '--', 'true'], {
      PATH: process.env.PATH,
      HOME: root,
    });
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('need --audit-file');
    // A file that cannot be opened stops the start before the server runs.
    const started = path.join(root, 'started');
    const unopenable = await runCli(
      ['proxy', '--audit-file', path.join(root, 'no', 'such', 'dir.jsonl'), '--', process.execPath, SCRIPTED],
      { PATH: process.env.PATH, HOME: root, STARTED_FILE: started },
    );
    expect(unopenable.code).toBe(2);
    expect(unopenable.stderr).toContain('--audit-file: cannot open');
    await expect(fs.access(started)).rejects.toThrow();
  });
});
