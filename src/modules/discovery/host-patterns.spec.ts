import { describe, expect, it } from '@jest/globals';
import { canonicalHostPattern, matchingHostPattern } from './host-patterns.js';

describe('auto-approve host patterns', () => {
  it.each([
    ['MCP.Example.com', 'mcp.example.com'],
    ['*.corp.example', '*.corp.example'],
    ['10.0.0.7', '10.0.0.7'],
    ['[::1]', '[::1]'],
  ])('accepts %s as %s', (text, canonical) => expect(canonicalHostPattern(text)).toBe(canonical));

  it.each(['', '*', '*.', 'a..b', 'http://x', 'x/y', '*.*.example', 'ex ample.com', 'a'.repeat(300)])(
    'refuses %j',
    (text) => expect(canonicalHostPattern(text)).toBeUndefined(),
  );

  it('matches exact hosts and sub-domains of a wildcard, never the bare domain or a look-alike', () => {
    const patterns = ['mcp.example.com', '*.corp.example'];
    expect(matchingHostPattern('https://MCP.example.com:8443/x', patterns)).toBe('mcp.example.com');
    expect(matchingHostPattern('https://jira.corp.example/mcp', patterns)).toBe('*.corp.example');
    expect(matchingHostPattern('https://corp.example/mcp', patterns)).toBeUndefined();
    expect(matchingHostPattern('https://evilcorp.example/mcp', patterns)).toBeUndefined();
    expect(matchingHostPattern('https://mcp.example.com.evil.net/', patterns)).toBeUndefined();
    expect(matchingHostPattern('not a url', patterns)).toBeUndefined();
  });
});
