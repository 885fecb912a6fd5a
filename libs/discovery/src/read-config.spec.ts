import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseJsonc, readConfigFile } from './read-config.js';

describe('parseJsonc', () => {
  it('accepts comments and trailing commas, and keeps // inside strings', () => {
    expect(parseJsonc('{\n // c\n "url": "https://x//y", /* block */ "a": [1, 2,],\n}')).toEqual({
      url: 'https://x//y',
      a: [1, 2],
    });
  });

  it('keeps escaped quotes inside strings', () => {
    expect(parseJsonc('{"a": "say \\"hi\\" // not a comment",}')).toEqual({ a: 'say "hi" // not a comment' });
  });
});

describe('readConfigFile', () => {
  let dir: string;
  const write = async (name: string, content: string | Buffer) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, content);
    return file;
  };
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-read-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('missing files are "missing", not errors', async () => {
    expect(await readConfigFile(path.join(dir, 'nope.json'), 'json')).toEqual({ status: 'missing' });
    expect(await readConfigFile(path.join(dir, 'nope/deeper.json'), 'json')).toEqual({ status: 'missing' });
  });

  it('parses JSON, TOML and YAML; strips a BOM; an empty file has no data', async () => {
    expect(await readConfigFile(await write('a.json', '\ufeff{"a":1}'), 'json')).toEqual({
      status: 'ok',
      data: { a: 1 },
    });
    expect(await readConfigFile(await write('a.toml', 'a = 1\n'), 'toml')).toEqual({
      status: 'ok',
      data: { a: 1 },
    });
    expect(await readConfigFile(await write('a.yaml', 'a: 1\n'), 'yaml')).toEqual({
      status: 'ok',
      data: { a: 1 },
    });
    expect(await readConfigFile(await write('empty.json', '  \n'), 'json')).toEqual({
      status: 'ok',
      data: undefined,
    });
  });

  it.each([
    [
      'bad.json',
      '{\n  "token": "s3cr3t-value-in-bad-json" x\n}',
      'json',
      'not valid JSON (line 2, column 39); skipped',
    ],
    [
      'bad.toml',
      'a = "s3cr3t-value-in-bad-toml"\nb = = 2\n',
      'toml',
      'not valid TOML (line 2, column 5); skipped',
    ],
    [
      'bad.yaml',
      'a: [1, 2\nb: "s3cr3t-value-in-bad-yaml" : :\n',
      'yaml',
      'not valid YAML (line 2, column 1); skipped',
    ],
  ] as const)('%s: a position, never the text', async (name, content, format, message) => {
    const outcome = await readConfigFile(await write(name, content), format);
    expect(outcome).toEqual({ status: 'error', message });
    expect(JSON.stringify(outcome)).not.toContain('s3cr3t');
  });

  it('refuses files over the size cap without reading them', async () => {
    const file = await write('big.json', '{}');
    await fs.truncate(file, 2048);
    expect(await readConfigFile(file, 'json', 1024)).toEqual({
      status: 'error',
      message: 'larger than 1024 bytes (2048 bytes); skipped',
    });
  });

  it('refuses non-UTF-8, directories and symlink loops', async () => {
    expect(await readConfigFile(await write('latin1.json', Buffer.from([0x7b, 0xe9, 0x7d])), 'json')).toEqual(
      {
        status: 'error',
        message: 'not UTF-8 text; skipped',
      },
    );
    await fs.mkdir(path.join(dir, 'dir.json'));
    expect(await readConfigFile(path.join(dir, 'dir.json'), 'json')).toEqual({
      status: 'error',
      message: 'not a regular file; skipped',
    });
    await fs.symlink(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
    await fs.symlink(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
    expect(await readConfigFile(path.join(dir, 'loop-a'), 'json')).toEqual({
      status: 'error',
      message: 'symbolic link loop; skipped',
    });
  });

  it('follows a symlink to a real file', async () => {
    const target = await write('target.json', '{"ok":true}');
    await fs.symlink(target, path.join(dir, 'link.json'));
    expect(await readConfigFile(path.join(dir, 'link.json'), 'json')).toEqual({
      status: 'ok',
      data: { ok: true },
    });
  });
});
