import { describe, expect, it } from '@jest/globals';
import { canonicalHostPattern, matchingHostPattern } from './host-patterns.js';

describe('auto-approve host patterns', () => {
  it.each([
    ['MCP.Example.com', 'mcp.example.com'],
    ['mcp.example.com.', 'mcp.example.com'],
    ['*.corp.example', '*.corp.example'],
    ['*.Corp.Example.', '*.corp.example'],
    ['10.0.0.7', '10.0.0.7'],
    ['[::1]', '[::1]'],
    // IP literals are stored as a URL parser reads them, so the list shows what it approves.
    ['0x7f.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['010.0.0.1', '8.0.0.1'],
    ['[::FFFF:10.0.0.1]', '10.0.0.1'],
    ['[0:0:0::1]', '[::1]'],
  ])('accepts %s as %s', (text, canonical) => expect(canonicalHostPattern(text)).toBe(canonical));

  it.each([
    '',
    '*',
    '*.',
    'a..b',
    'http://x',
    'x/y',
    '*.*.example',
    'ex ample.com',
    'a'.repeat(300),
    // A wildcard over IP literals would approve addresses, not sub-domains.
    '*.0.0.1',
    '*.1',
    '*.0x7f',
    '256.0.0.1',
    '1.2.3.4.5',
    '[1::2::3]',
    '[fe80::1%eth0]',
  ])('refuses %j', (text) => expect(canonicalHostPattern(text)).toBeUndefined());

  it('matches exact hosts and sub-domains of a wildcard, never the bare domain or a look-alike', () => {
    const patterns = ['mcp.example.com', '*.corp.example'];
    expect(matchingHostPattern('https://MCP.example.com:8443/x', patterns)).toBe('mcp.example.com');
    expect(matchingHostPattern('https://jira.corp.example/mcp', patterns)).toBe('*.corp.example');
    expect(matchingHostPattern('https://corp.example/mcp', patterns)).toBeUndefined();
    expect(matchingHostPattern('https://evilcorp.example/mcp', patterns)).toBeUndefined();
    expect(matchingHostPattern('https://mcp.example.com.evil.net/', patterns)).toBeUndefined();
    expect(matchingHostPattern('not a url', patterns)).toBeUndefined();
  });

  it('a host written with a trailing dot is the same host', () => {
    const patterns = ['mcp.example.com', '*.corp.example'];
    expect(matchingHostPattern('https://mcp.example.com./x', patterns)).toBe('mcp.example.com');
    expect(matchingHostPattern('https://JIRA.corp.example./mcp', patterns)).toBe('*.corp.example');
    expect(matchingHostPattern('https://corp.example./mcp', patterns)).toBeUndefined();
  });

  it.each([
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1:7000/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '127.0.0.1'],
    ['http://[::ffff:7f00:1]/', '127.0.0.1'],
    ['http://[::ffff:10.0.0.1]/', '10.0.0.1'],
    ['http://[0:0:0:0:0:0:0:1]/', '[::1]'],
    ['http://010.0.0.1/', '8.0.0.1'],
  ])('an IP URL %s matches as its canonical form %s', (url, canonical) => {
    expect(matchingHostPattern(url, [canonical])).toBe(canonical);
    expect(matchingHostPattern(url, [canonicalHostPattern(canonical)!])).toBe(canonical);
  });

  it('an IP URL matches no other address, whatever its spelling', () => {
    expect(matchingHostPattern('http://010.0.0.1/', ['10.0.0.1'])).toBeUndefined();
    expect(matchingHostPattern('http://[::ffff:10.0.0.2]/', ['10.0.0.1'])).toBeUndefined();
    expect(matchingHostPattern('http://[::1]/', ['127.0.0.1'])).toBeUndefined();
  });

  it('a wildcard never matches an IP literal, even one stored before wildcards over numbers were refused', () => {
    for (const url of ['http://10.0.0.1/', 'http://0xa.0.0.1/', 'http://[::ffff:10.0.0.1]/']) {
      expect(matchingHostPattern(url, ['*.0.0.1', '*.1'])).toBeUndefined();
    }
  });
});
