import { describe, expect, it } from '@jest/globals';
import { extractFromCommand, parseImage } from './command.js';

const pkgs = (command: string, args: string[]) =>
  extractFromCommand(command, args).packages.map((p) => [p.purl, p.confidence, p.version ?? null]);

describe('extractFromCommand', () => {
  it('reads npx and friends, with version confidence', () => {
    expect(pkgs('npx', ['-y', '@modelcontextprotocol/server-filesystem@2025.1.14', '/tmp'])).toEqual([
      ['pkg:npm/%40modelcontextprotocol/server-filesystem@2025.1.14', 'pinned', '2025.1.14'],
    ]);
    expect(pkgs('npx', ['--yes', 'mcp-remote@^0.1.0', 'https://x'])).toEqual([
      ['pkg:npm/mcp-remote', 'range', '^0.1.0'],
    ]);
    expect(pkgs('/usr/bin/npx.cmd', ['server-everything'])).toEqual([
      ['pkg:npm/server-everything', 'floating', null],
    ]);
    expect(pkgs('npx', ['-p', 'a@1.0.0', '-p', 'b@latest', 'a-bin'])).toEqual([
      ['pkg:npm/a@1.0.0', 'pinned', '1.0.0'],
      ['pkg:npm/b', 'floating', null],
    ]);
    expect(pkgs('npm', ['exec', '--yes', '--', 'pkg@2.0.0'])).toEqual([
      ['pkg:npm/pkg@2.0.0', 'pinned', '2.0.0'],
    ]);
    expect(pkgs('pnpm', ['dlx', 'pkg@2.0.0'])).toEqual([['pkg:npm/pkg@2.0.0', 'pinned', '2.0.0']]);
    expect(pkgs('bunx', ['pkg@next'])).toEqual([['pkg:npm/pkg', 'floating', 'next']]);
  });

  it('reads uvx, uv tool run and pipx run, normalising PyPI names', () => {
    expect(pkgs('uvx', ['mcp-server-git==0.6.2', '--repository', '.'])).toEqual([
      ['pkg:pypi/mcp-server-git@0.6.2', 'pinned', '0.6.2'],
    ]);
    expect(pkgs('uvx', ['--from', 'Mcp_Server.Fetch[x]>=0.6', 'mcp-server-fetch'])).toEqual([
      ['pkg:pypi/mcp-server-fetch', 'range', '>=0.6'],
    ]);
    expect(pkgs('uvx', ['--python', '3.12', 'pkg@1.2'])).toEqual([['pkg:pypi/pkg@1.2', 'pinned', '1.2']]);
    expect(pkgs('uvx', ['pkg@latest'])).toEqual([['pkg:pypi/pkg', 'floating', null]]);
    expect(pkgs('uv', ['tool', 'run', 'pkg==1.0'])).toEqual([['pkg:pypi/pkg@1.0', 'pinned', '1.0']]);
    expect(pkgs('pipx', ['run', '--spec', 'pkg==3.1', 'cmd'])).toEqual([
      ['pkg:pypi/pkg@3.1', 'pinned', '3.1'],
    ]);
  });

  it('reads docker/podman run images', () => {
    expect(
      pkgs('docker', ['run', '-i', '--rm', '-e', 'TOKEN', 'ghcr.io/github/github-mcp-server:0.2.1']),
    ).toEqual([['pkg:docker/ghcr.io/github/github-mcp-server', 'range', '0.2.1']]);
    const digest = 'sha256:' + 'a'.repeat(64);
    expect(pkgs('podman', ['run', `mcp/fetch@${digest}`])).toEqual([
      [`pkg:docker/mcp/fetch@${digest}`, 'pinned', digest],
    ]);
    expect(pkgs('docker', ['run', '-v', '/a:/b', 'alpine'])).toEqual([
      ['pkg:docker/library/alpine', 'floating', null],
    ]);
  });

  it('returns local paths for node/python scripts and uv --directory', () => {
    expect(extractFromCommand('node', ['./dist/index.js'], '/proj').localPaths).toEqual([
      '/proj/dist/index.js',
    ]);
    expect(extractFromCommand('python3.12', ['/srv/server.py']).localPaths).toEqual(['/srv/server.py']);
    expect(extractFromCommand('uv', ['--directory', '/srv/app', 'run', 'server']).localPaths).toEqual([
      '/srv/app',
    ]);
    expect(extractFromCommand('python', ['-m', 'mod']).localPaths).toEqual([]);
  });

  it('notes what it cannot resolve instead of inventing packages', () => {
    const git = extractFromCommand('npx', ['github:owner/repo']);
    expect(git.packages).toEqual([]);
    expect(git.notes[0]).toMatch(/not a registry package/);
    expect(extractFromCommand('npx', ['__proto__']).packages).toEqual([]);
    expect(extractFromCommand('weird', []).notes[0]).toMatch(/unknown launcher/);
  });
});

describe('parseImage', () => {
  it('keeps registry ports apart from tags', () => {
    expect(parseImage('localhost:5000/img:1.0')).toEqual({
      name: 'localhost:5000/img',
      version: '1.0',
      confidence: 'range',
    });
    expect(parseImage('Bad Image')).toBeUndefined();
  });
});
