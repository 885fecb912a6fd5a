import { describe, expect, it } from '@jest/globals';
import { controlPlaneDir, deriveServerName, parseProxyConfig, ProxyConfigError } from './config.js';

describe('parseProxyConfig', () => {
  it('has safe defaults', () => {
    const config = parseProxyConfig('npx', ['@modelcontextprotocol/server-filesystem', '/w'], {}, {});
    expect(config).toMatchObject({
      serverName: 'server-filesystem',
      detectCredentials: false,
      credentialAction: 'redact',
      argumentDetectors: 'block',
      replayWindowMs: 300_000,
      rateLimitPerMinute: 0,
      maxFrameBytes: 16 * 1024 * 1024,
      logLevel: 'info',
    });
    expect(config.controlPlane).toBeUndefined();
  });

  it('reads the token from the environment and keys the cache by URL and token', () => {
    const env = { AGENT_BOM_API_URL: 'https://cp.example', AGENT_BOM_API_TOKEN: 'abom_x' };
    const a = parseProxyConfig('x', [], { cacheDir: '/tmp/c' }, env);
    const b = parseProxyConfig('x', [], { cacheDir: '/tmp/c' }, { ...env, AGENT_BOM_API_TOKEN: 'abom_y' });
    expect(a.controlPlane).toEqual({ url: 'https://cp.example', token: 'abom_x' });
    expect(controlPlaneDir(a)).toMatch(/^\/tmp\/c\/proxy\/[0-9a-f]{16}$/);
    expect(controlPlaneDir(a)).not.toBe(controlPlaneDir(b));
    expect(controlPlaneDir(a)).not.toContain('abom_x');
  });

  it.each([
    [undefined, {}, /no server command/],
    ['x', { controlPlaneUrl: 'https://cp' }, /needs --control-plane-token/],
    ['x', { credentialAction: 'shred' }, /--credential-action must be one of redact, block/],
    ['x', { replayWindow: 'soon' }, /--replay-window/],
    ['x', { rateLimit: '-1' }, /--rate-limit/],
    ['x', { maxFrameBytes: '12' }, /--max-frame-bytes/],
    ['x', { serverName: 'a\u0007b' }, /--server-name/],
    ['x', { agent: 'x'.repeat(201) }, /--agent/],
  ])('refuses %j %j', (command, options, message) => {
    expect(() => parseProxyConfig(command as string | undefined, [], options, {})).toThrow(ProxyConfigError);
    expect(() => parseProxyConfig(command as string | undefined, [], options, {})).toThrow(message);
  });

  it('parses durations, sizes and limits', () => {
    const config = parseProxyConfig(
      'x',
      [],
      { replayWindow: '0', rateLimit: '30/min', maxFrameBytes: '2MiB', policyRefresh: '1s' },
      {},
    );
    expect(config).toMatchObject({
      replayWindowMs: 0,
      rateLimitPerMinute: 30,
      maxFrameBytes: 2 * 1024 * 1024,
      policyRefreshMs: 5000,
    });
  });
});

describe('deriveServerName', () => {
  it.each([
    [['npx', '-y', '@modelcontextprotocol/server-everything'], 'server-everything'],
    [
      ['node', '/x/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
      'server-everything',
    ],
    [['uvx', 'mcp-server-git', '--repository', '.'], 'mcp-server-git'],
    [['python3', '-m', 'weather_server'], 'weather_server'],
    [['/usr/local/bin/github-mcp-server', 'stdio'], 'github-mcp-server'],
    [['npx', 'pkg@1.2.3'], 'pkg'],
  ])('%j → %s', ([command, ...args], name) => expect(deriveServerName(command, args)).toBe(name));
});
