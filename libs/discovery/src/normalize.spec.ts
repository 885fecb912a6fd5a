import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { boundedName, normalizeServer } from './normalize.js';
import type { ServerEntry } from './shapes.js';

const context = { configPath: '/home/u/.cursor/mcp.json', scope: 'global' as const };
const entry = (fields: Partial<ServerEntry>): ServerEntry => ({
  name: 's',
  tools: [],
  disabled: false,
  oauth: false,
  credentialEnvNames: [],
  credentialHeaderNames: [],
  ...fields,
});

describe('normalizeServer', () => {
  it.each([
    [{ command: 'npx' }, 'stdio'],
    [{ command: 'npx', url: 'https://x.example/sse' }, 'stdio'],
    [{ url: 'https://x.example/mcp' }, 'https'],
    [{ url: 'http://127.0.0.1:3000/mcp' }, 'http'],
    [{ url: 'https://x.example/sse' }, 'sse'],
    [{ url: 'https://x.example/v1/sse/' }, 'sse'],
    [{ url: 'https://x.example/events', type: 'sse' }, 'sse'],
    [{ url: 'https://x.example/events', type: 'SSE' }, 'sse'],
    [{ url: 'http://x.example/mcp', type: 'http' }, 'http'],
  ])('%j → %s', (fields, transport) => {
    const result = normalizeServer(entry(fields), context);
    expect(result.ok && result.server.transport).toBe(transport);
  });

  it.each([
    [{}, 'server "s": has neither a command nor a url; skipped'],
    [{ command: 42 }, 'server "s": command is not a string; skipped'],
    [{ url: ['x'] }, 'server "s": url is not a string; skipped'],
    [{ url: 'not a url with s3cr3t' }, 'server "s": url is not an absolute URL; skipped'],
    [{ url: 'ws://x.example/mcp' }, 'server "s": url scheme ws: is not http or https; skipped'],
  ])('refuses %j with a problem that quotes no value', (fields, problem) => {
    expect(normalizeServer(entry(fields), context)).toEqual({ ok: false, problem });
  });

  it('keeps what it can of wrong-typed fields and says so', () => {
    const result = normalizeServer(
      entry({ command: 'x', args: ['a', 3000, true, { o: 1 }], env: 'nope' }),
      context,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.server.args).toEqual(['a', '3000', 'true']);
    expect(result.problems).toEqual([
      'server "s": args is not a list of strings; non-string items ignored',
      'server "s": env is not an object; ignored',
    ]);
  });

  it('credential names from names, from secret-looking values, from args and from the client', () => {
    const result = normalizeServer(
      entry({
        command: 'docker',
        args: ['run', '-e', 'GH_PAT', '--header', 'X-Api-Key: abc', 'img'],
        env: { API_TOKEN: '${TOKEN}', PLAIN: 'Zx81kQp02mNs7Lw4Rt9Yb3Vc6Hd5Jf1G', LOG_LEVEL: 'debug' },
        headers: { Authorization: 'x' },
        credentialEnvNames: ['FROM_KEYRING'],
      }),
      context,
    );
    if (!result.ok) throw new Error(result.problem);
    expect(result.server.credential_env_names).toEqual(['API_TOKEN', 'FROM_KEYRING', 'GH_PAT', 'PLAIN']);
    expect(result.server.credential_header_names).toEqual(['Authorization', 'X-Api-Key']);
    expect(result.server.auth_mode).toBe('headers');
  });

  it.each([
    [{ url: 'https://u:p@x.example/mcp', headers: { Authorization: 'x' } }, 'url'],
    [{ url: 'https://x.example/mcp', headers: { 'X-Api-Key': 'x' }, env: { TOKEN: 'x' } }, 'headers'],
    [{ command: 'x', env: { TOKEN: 'x' } }, 'env'],
    [{ url: 'https://x.example/mcp', oauth: true }, 'oauth'],
    [{ command: 'x', args: ['--api-key', 'k'] }, 'unknown'],
    [{ command: 'npx', args: ['mcp-remote', 'https://x.example/sse?token=abc'] }, 'url'],
    [{ command: 'x', env: { LOG_LEVEL: 'debug' } }, 'none'],
  ])('auth mode of %j is %s', (fields, mode) => {
    const result = normalizeServer(entry(fields), context);
    expect(result.ok && result.server.auth_mode).toBe(mode);
  });

  it('a whole command line in `command` is redacted like args', () => {
    const result = normalizeServer(entry({ command: 'my-server --token=abc' }), context);
    expect(result.ok && result.server.command).toBe('my-server --token=[redacted]');
  });

  it('the launch spec keeps real values in memory and never serializes them', () => {
    const result = normalizeServer(
      entry({ command: 'x', args: ['--token', 'very-secret-arg'], env: { TOKEN: 'very-secret-env' } }),
      context,
    );
    if (!result.ok) throw new Error(result.problem);
    expect(result.launch.env.TOKEN).toBe('very-secret-env');
    expect(result.launch.args).toEqual(['--token', 'very-secret-arg']);
    const shown =
      JSON.stringify({ launch: result.launch }) + inspect(result.launch) + String(result.server.args);
    expect(shown).not.toContain('very-secret');
    expect(result.launch.secretValues()).toEqual(
      expect.arrayContaining(['very-secret-env', 'very-secret-arg']),
    );
  });
});

describe('boundedName', () => {
  it('keeps short names and shortens long ones uniquely', () => {
    expect(boundedName('claude-code')).toBe('claude-code');
    const a = boundedName('project:/' + 'a'.repeat(300));
    const b = boundedName('project:/' + 'a'.repeat(301));
    expect(a.length).toBeLessThanOrEqual(200);
    expect(a).not.toBe(b);
  });
});
