import { describe, expect, it } from '@jest/globals';
import { parseOverlay } from './overlay.js';

describe('--upstreams overlay', () => {
  const env = { GITHUB_MCP_TOKEN: 'ghp_secret_value', JIRA_KEY: 'jira-secret' };

  it('reads the seed’s example; credentials only inside authHeaders, never in a field', () => {
    const [github, jira] = parseOverlay(
      {
        upstreams: [
          {
            name: 'github',
            url: 'https://mcp.github.example.com/sse',
            auth: 'bearer',
            token_env: 'GITHUB_MCP_TOKEN',
          },
          {
            name: 'jira',
            url: 'https://jira.example/mcp',
            auth: 'header',
            token_env: 'JIRA_KEY',
            header_name: 'X-Api-Key',
            tenant: 'acme',
          },
        ],
      },
      env,
    );
    const upstream = github.build('acme');
    expect(upstream).toMatchObject({
      name: 'github',
      transport: 'sse',
      source: 'overlay',
      auth: { kind: 'bearer', tokenEnv: 'GITHUB_MCP_TOKEN' },
    });
    expect(upstream.authHeaders()).toEqual({ authorization: 'Bearer ghp_secret_value' });
    expect(JSON.stringify(upstream)).not.toContain('ghp_secret_value');
    expect(jira.tenant).toBe('acme');
    expect(jira.build('acme').authHeaders()).toEqual({ 'x-api-key': 'jira-secret' });
  });

  it('refuses what it cannot use, naming the field and never a value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ upstreams: [{ name: 'a', url: 'https://x', extra: 1 }] }, /upstreams\.0\.extra: unknown field/],
      [{ upstreams: [{ name: 'a b', url: 'https://x' }] }, /upstreams\.0\.name/],
      [{ upstreams: [{ name: 'a', url: 'ftp://x' }] }, /must be http or https/],
      [{ upstreams: [{ name: 'a', url: 'https://u:p@x' }] }, /must not carry credentials/],
      [
        { upstreams: [{ name: 'a', url: 'https://x', auth: 'bearer', token_env: 'MISSING' }] },
        /MISSING is not set/,
      ],
      [
        {
          upstreams: [
            { name: 'a', url: 'https://x', auth: 'header', token_env: 'JIRA_KEY', header_name: 'Host' },
          ],
        },
        /header_name/,
      ],
      [
        {
          upstreams: [
            { name: 'a', url: 'https://x' },
            { name: 'a', url: 'https://y' },
          ],
        },
        /listed twice/,
      ],
      [{ upstream: [] }, /unknown field/],
    ];
    for (const [doc, message] of bad) {
      let error: Error | undefined;
      try {
        parseOverlay(doc, env);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('secret');
    }
  });
});
