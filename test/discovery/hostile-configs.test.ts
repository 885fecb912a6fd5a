import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { discover } from '../../libs/discovery/src/index.js';

/**
 * Configs written by anyone (or by nobody sane): each problem is a warning about one file or one server, the
 * rest of the inventory survives, and nothing a file contains ends up in a warning.
 */
const PLANTED = 'planted-' + Math.random().toString(36).slice(2) + '-value';
let home: string;

async function put(relative: string, content: string | Buffer) {
  const file = path.join(home, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return file;
}

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-hostile-'));
  // malformed JSON with a secret on the broken line
  await put('.cursor/mcp.json', `{"mcpServers": {"a": {"command": "x", "env": {"TOKEN": "${PLANTED}"}} oops`);
  // 50 MB (sparse: created instantly, never read)
  const big = await put('.gemini/settings.json', '{}');
  await fs.truncate(big, 50 * 1024 * 1024);
  // wrong types at every level
  await put(
    '.config/Claude/claude_desktop_config.json',
    JSON.stringify({
      mcpServers: {
        ok: { command: 'node', args: ['server.js'] },
        numeric: 42,
        list: ['a'],
        badCommand: { command: { nested: true } },
        badArgs: { command: 'node', args: 'not-a-list', env: ['not', 'a', 'map'] },
        badUrl: { url: `https://${PLANTED}@:invalid` },
        neither: { description: 'nothing to run' },
      },
    }),
  );
  // deeply nested JSON (a stack-overflow attempt)
  await put(
    '.codeium/windsurf/mcp_config.json',
    '{"mcpServers":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}',
  );
  // symlink loop
  await fs.mkdir(path.join(home, '.claude'), { recursive: true });
  await fs.symlink(path.join(home, '.claude', 'b.json'), path.join(home, '.claude', 'settings.json'));
  await fs.symlink(path.join(home, '.claude', 'settings.json'), path.join(home, '.claude', 'b.json'));
  // a directory where a file is expected
  await fs.mkdir(path.join(home, '.claude.json'));
  // bad TOML, a YAML alias bomb, and a YAML document of the wrong shape
  await put('.codex/config.toml', `[mcp_servers.a]\ncommand = "${PLANTED}\n`);
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++)
    bomb.push(
      `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
        .fill(`*${i === 1 ? 'a' : 'b'.repeat(i - 1)}`)
        .join(',')}]`,
    );
  await put('.config/goose/config.yaml', bomb.join('\n') + '\n');
  await put('.continue/config.yaml', '- just\n- a\n- list\n');
  // not UTF-8
  await put('.config/zed/settings.json', Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
});
afterAll(() => fs.rm(home, { recursive: true, force: true }));

describe('hostile configs', () => {
  it('every problem is a warning, the good server survives, and no file content leaks', async () => {
    const started = Date.now();
    const { agents, warnings } = await discover({ os: 'linux', home });
    expect(Date.now() - started).toBeLessThan(10_000);

    const byFile = (suffix: string) => warnings.filter((w) => w.path.endsWith(suffix)).map((w) => w.message);
    expect(byFile('.cursor/mcp.json')).toEqual([
      expect.stringMatching(/^not valid JSON \(line 1, column \d+\); skipped$/),
    ]);
    expect(byFile('.gemini/settings.json')).toEqual(['larger than 5 MiB (52428800 bytes); skipped']);
    expect(byFile('claude_desktop_config.json')).toEqual([
      'mcpServers: server "numeric" is not an object; skipped',
      'mcpServers: server "list" is not an object; skipped',
      'server "badCommand": command is not a string; skipped',
      'server "badArgs": args is not a list of strings; non-string items ignored',
      'server "badArgs": env is not an object; ignored',
      'server "badUrl": url is not an absolute URL; skipped',
      'server "neither": has neither a command nor a url; skipped',
    ]);
    expect(byFile('mcp_config.json')).toEqual(['mcpServers[0] is not an object; skipped']);
    expect(byFile('.claude/settings.json')).toEqual(['symbolic link loop; skipped']);
    expect(byFile('.claude.json')).toEqual(['not a regular file; skipped']);
    expect(byFile('config.toml')).toEqual([
      expect.stringMatching(/^not valid TOML \(line 2, column \d+\); skipped$/),
    ]);
    expect(byFile('goose/config.yaml')).toEqual([expect.stringMatching(/^not valid YAML/)]);
    expect(byFile('.continue/config.yaml')).toEqual(['the top level is not an object; skipped']);
    expect(byFile('zed/settings.json')).toEqual(['not UTF-8 text; skipped']);

    const desktop = agents.find((a) => a.name === 'claude-desktop')!;
    expect(desktop.servers.map((s) => s.name)).toEqual(['ok', 'badArgs']);
    // the clients are still inventoried, with the unreadable file as their config path
    expect(agents.map((a) => a.name)).toEqual(
      expect.arrayContaining(['cursor', 'gemini-cli', 'windsurf', 'codex', 'goose', 'zed', 'continue']),
    );
    expect(JSON.stringify({ agents, warnings })).not.toContain(PLANTED);
  });

  it('caps servers per agent at the contract bound', async () => {
    const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`s${i}`, { command: 'x' }]));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-many-'));
    try {
      await fs.mkdir(path.join(dir, '.cursor'));
      await fs.writeFile(path.join(dir, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: many }));
      const { agents, warnings } = await discover({ os: 'linux', home: dir });
      expect(agents[0].servers).toHaveLength(200);
      expect(warnings.map((w) => w.message)).toEqual(['more than 200 servers; the rest are ignored']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
