import { describe, expect, it } from '@jest/globals';
import { extractServers } from './shapes.js';

const names = (doc: unknown, shape: Parameters<typeof extractServers>[1]) =>
  extractServers(doc, shape).entries.map((e) => e.name);

describe('extractServers per client shape', () => {
  it('mcpServers maps (Claude Desktop, Cursor, Windsurf, Cline, Gemini CLI)', () => {
    const result = extractServers(
      {
        mcpServers: {
          a: { command: 'npx', args: ['x'], env: { K: 'v' }, autoApprove: ['t1'], alwaysAllow: ['t2'] },
          b: { serverUrl: 'https://w.example/sse' },
          c: { httpUrl: 'https://g.example/mcp', includeTools: ['t3'], oauth: { enabled: true } },
          d: { url: 'https://x.example', disabled: true },
        },
      },
      'mcpServers',
    );
    expect(result.problems).toEqual([]);
    expect(result.entries).toMatchObject([
      { name: 'a', command: 'npx', args: ['x'], env: { K: 'v' }, tools: ['t1', 't2'], disabled: false },
      { name: 'b', url: 'https://w.example/sse' },
      { name: 'c', url: 'https://g.example/mcp', type: 'http', tools: ['t3'], oauth: true },
      { name: 'd', disabled: true },
    ]);
  });

  it('Claude Code: top-level servers, per-project sections and allowedTools', () => {
    const result = extractServers(
      {
        mcpServers: { top: { command: 'a' } },
        projects: {
          '/p1': { mcpServers: { one: { command: 'b' } }, allowedTools: ['mcp__one__x'] },
          '/p2': { allowedTools: [] },
          '/p3': 'not an object',
        },
      },
      'claude-code',
    );
    expect(result.entries.map((e) => e.name)).toEqual(['top']);
    expect(result.projects).toMatchObject([
      { path: '/p1', entries: [{ name: 'one' }], allowedTools: ['mcp__one__x'] },
      { path: '/p2', entries: [] },
    ]);
  });

  it('Claude Code settings: permissions.allow', () => {
    expect(
      extractServers({ permissions: { allow: ['mcp__a__b', 1] } }, 'claude-settings').allowedTools,
    ).toEqual(['mcp__a__b']);
  });

  it('VS Code: mcp.json servers, settings.json mcp.servers (nested or dotted)', () => {
    expect(names({ servers: { a: { type: 'stdio', command: 'x' } } }, 'vscode-mcp')).toEqual(['a']);
    expect(names({ mcp: { servers: { b: { command: 'x' } } } }, 'vscode-settings')).toEqual(['b']);
    expect(names({ 'mcp.servers': { c: { command: 'x' } } }, 'vscode-settings')).toEqual(['c']);
    expect(names({ 'editor.fontSize': 12 }, 'vscode-settings')).toEqual([]);
  });

  it('Zed: command object, command string, remote; extension servers skipped', () => {
    const result = extractServers(
      {
        context_servers: {
          a: { command: { path: 'node', args: ['s.js'], env: { T: 'v' } } },
          b: { command: 'uvx', args: ['x'] },
          c: { url: 'https://z.example/mcp' },
          ext: { source: 'extension', settings: {} },
        },
      },
      'zed',
    );
    expect(result.entries).toMatchObject([
      { name: 'a', command: 'node', args: ['s.js'], env: { T: 'v' } },
      { name: 'b', command: 'uvx', args: ['x'] },
      { name: 'c', url: 'https://z.example/mcp' },
    ]);
  });

  it('Codex: mcp_servers with bearer_token_env_var, env_http_headers, enabled_tools, enabled', () => {
    const [entry] = extractServers(
      {
        mcp_servers: {
          r: {
            url: 'https://c.example/mcp',
            bearer_token_env_var: 'R_TOKEN',
            env_http_headers: { 'X-Org': 'ORG_ID_VAR' },
            enabled_tools: ['a'],
            enabled: false,
          },
        },
      },
      'codex',
    ).entries;
    expect(entry).toMatchObject({
      credentialEnvNames: ['R_TOKEN', 'ORG_ID_VAR'],
      credentialHeaderNames: ['Authorization', 'X-Org'],
      tools: ['a'],
      disabled: true,
    });
  });

  it('Goose: stdio/sse/streamable_http extensions; builtins skipped; env_keys are credentials', () => {
    const result = extractServers(
      {
        extensions: {
          dev: { type: 'builtin', name: 'developer' },
          f: { type: 'stdio', name: 'fetch', cmd: 'uvx', args: ['x'], envs: { A: 'b' }, env_keys: ['K'] },
          s: { type: 'sse', uri: 'https://s.example/sse' },
          h: { type: 'streamable_http', uri: 'https://h.example/mcp', enabled: false },
        },
      },
      'goose',
    );
    expect(result.entries).toMatchObject([
      { name: 'fetch', command: 'uvx', env: { A: 'b' }, credentialEnvNames: ['K'] },
      { name: 's', type: 'sse', url: 'https://s.example/sse' },
      { name: 'h', type: 'http', disabled: true },
    ]);
  });

  it('Continue: mcpServers list and experimental modelContextProtocolServers', () => {
    const result = extractServers(
      {
        mcpServers: [{ name: 'a', command: 'x' }, { command: 'y' }],
        experimental: {
          modelContextProtocolServers: [{ transport: { type: 'stdio', command: 'z', args: [] } }],
        },
      },
      'continue',
    );
    expect(result.entries.map((e) => [e.name, e.command])).toEqual([
      ['a', 'x'],
      ['mcp-server-2', 'y'],
      ['mcp-server-1', 'z'],
    ]);
  });

  it.each([
    [[1, 2], 'the top level is not an object; skipped'],
    [{ mcpServers: 'nope' }, 'mcpServers is not an object; skipped'],
    [{ mcpServers: { a: 42 } }, 'mcpServers: server "a" is not an object; skipped'],
    [{ mcpServers: [null] }, 'mcpServers[0] is not an object; skipped'],
  ])('wrong types become problems: %j', (doc, problem) => {
    expect(extractServers(doc, 'mcpServers').problems).toEqual([problem]);
  });
});
