import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { runProxy } from './main.js';

const SCRIPTED = path.resolve('test/fixtures/servers/scripted-mcp.mjs');

describe('runProxy (in process)', () => {
  it('boots the Nest application context, relays a session and returns the server exit status', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (chunk) => (out += chunk));
    const done = runProxy(
      process.execPath,
      [SCRIPTED],
      { cacheDir: path.join(os.tmpdir(), 'abom-main-spec'), logLevel: 'error' },
      { input, output },
      { PATH: process.env.PATH },
    );
    input.write(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"spec","version":"1"}}}\n',
    );
    input.write(
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"in process"}}}\n',
    );
    const deadline = Date.now() + 15_000;
    while (!out.includes('"id":2') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    input.end();
    expect(await done).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.find((m) => m.id === 1).result.serverInfo.name).toBe('scripted-mcp');
    expect(lines.find((m) => m.id === 2).result.content[0].text).toBe('in process');
  }, 30_000);

  it('usage errors return 2 without starting anything', async () => {
    expect(await runProxy(undefined, [], {})).toBe(2);
    expect(await runProxy('x', [], { credentialAction: 'shred' })).toBe(2);
  });
});
