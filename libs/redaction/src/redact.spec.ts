import { describe, expect, it } from '@jest/globals';
import { REDACTED, redactArgs, sanitizeUrl } from './redact.js';

const GH = 'ghp_' + 'Zx81kQp02mNs7Lw4Rt9Yb3Vc6Hd5Jf1GaaZZ';

describe('sanitizeUrl', () => {
  it('strips userinfo and fragments', () => {
    expect(sanitizeUrl('https://alice:hunter2@mcp.example.com/mcp#frag')).toEqual({
      url: 'https://mcp.example.com/mcp',
      hadCredentials: true,
    });
  });

  it('redacts credential-named and secret-looking query values, keeps the rest', () => {
    const clean = sanitizeUrl(`https://h.example/sse?api_key=abc&team=core&x=${GH}&X-Amz-Signature=ff&flag`)!;
    expect(clean.url).toBe(
      `https://h.example/sse?api_key=${REDACTED}&team=core&x=${REDACTED}&X-Amz-Signature=${REDACTED}&flag`,
    );
    expect(clean.hadCredentials).toBe(true);
  });

  it('redacts a key embedded in the path', () => {
    const clean = sanitizeUrl('https://actions.example.com/mcp/Zx81kQp02mNs7Lw4Rt9Yb3Vc6Hd5Jf1G/sse')!;
    expect(clean.url).toBe(`https://actions.example.com/mcp/${REDACTED}/sse`);
    expect(clean.hadCredentials).toBe(true);
  });

  it('leaves a clean URL alone', () => {
    expect(sanitizeUrl('http://127.0.0.1:3001/mcp?team=core')).toEqual({
      url: 'http://127.0.0.1:3001/mcp?team=core',
      hadCredentials: false,
    });
  });

  it('returns undefined for text that is not a URL', () => {
    expect(sanitizeUrl('not a url')).toBeUndefined();
  });
});

describe('redactArgs', () => {
  it.each([
    [['--token=xyz'], ['--token=' + REDACTED]],
    [
      ['--api-key', 'xyz'],
      ['--api-key', REDACTED],
    ],
    [
      ['--api-key', '--verbose'],
      ['--api-key', '--verbose'],
    ],
    [
      ['--password=', 'x'],
      ['--password=', 'x'],
    ],
    [
      ['--header', 'Authorization: Bearer abcdefgh12345678'],
      ['--header', `Authorization: ${REDACTED}`],
    ],
    [['--header=X-Api-Key: k'], [`--header=X-Api-Key: ${REDACTED}`]],
    [
      ['-H', 'Accept: application/json'],
      ['-H', 'Accept: application/json'],
    ],
    [['Authorization:${AUTH_HEADER}'], [`Authorization: ${REDACTED}`]],
    [
      ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
      ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
    ],
    [
      ['-e', 'API_TOKEN=abc'],
      ['-e', `API_TOKEN=${REDACTED}`],
    ],
    [['--env=LOG_LEVEL=debug'], ['--env=LOG_LEVEL=debug']],
    [
      ['SLACK_BOT_TOKEN=xoxb-1234567890-abcdefghij', 'npx'],
      [`SLACK_BOT_TOKEN=${REDACTED}`, 'npx'],
    ],
    [[GH], [REDACTED]],
    [
      ['--config', `https://u:p@h.example/x?token=${GH}`],
      ['--config', `https://h.example/x?token=${REDACTED}`],
    ],
    [
      ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/projects'],
      ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/projects'],
    ],
    [
      ['--port=3001', '--verbose'],
      ['--port=3001', '--verbose'],
    ],
  ])('%j → %j', (input, output) => expect(redactArgs(input).args).toEqual(output));

  it('notes the credential env and header names the args pass on', () => {
    const result = redactArgs([
      '-e',
      'GITHUB_PERSONAL_ACCESS_TOKEN',
      '-e',
      'LOG_LEVEL=debug',
      '--env',
      'DB_PASSWORD=x',
      '--header',
      'Authorization: Bearer abcdefgh12345678',
      '-H',
      'Accept: */*',
    ]);
    expect(result.envNames).toEqual(['GITHUB_PERSONAL_ACCESS_TOKEN', 'DB_PASSWORD']);
    expect(result.headerNames).toEqual(['Authorization']);
    expect(result.redacted).toBe(true);
  });

  it('reports when nothing was redacted', () => {
    expect(redactArgs(['server.js', '--stdio']).redacted).toBe(false);
  });
});
