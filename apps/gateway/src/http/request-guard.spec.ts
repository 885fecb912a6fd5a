import { describe, expect, it } from '@jest/globals';
import { foreignRequest, normalizeRequestTarget, originPolicy } from './request-guard.js';

describe('normalizeRequestTarget', () => {
  // Plain paths take a shortcut past the URL parser; every row is what the parser alone gave.
  it.each([
    ['/mcp/bench', '/mcp/bench'],
    ['/mcp/bench/', '/mcp/bench/'],
    ['/', '/'],
    ['/mcp/a.b', '/mcp/a.b'],
    ['/mcp/a..', '/mcp/a..'],
    ['/mcp/.well-known/x', '/mcp/.well-known/x'],
    ['/mcp/../admin', '/admin'],
    ['/mcp/./x', '/mcp/x'],
    ['/mcp//x', '/mcp/x'],
    ['//mcp', '/mcp'],
    ['/%6Dcp/x', '/mcp/x'],
    ['/mcp/%2e%2e/x', '/x'],
    ['/mcp/x?y=1&z=/../', '/mcp/x?y=1&z=/../'],
    ['/mcp/bench?', '/mcp/bench?'],
    ['http://h/mcp/x', '/mcp/x'],
    ['/mcp/a b', '/mcp/a%20b'],
    ['/mcp/é', '/mcp/%C3%A9'],
    ['/mcp\\x', '/mcp/x'],
    ['/mcp/~u_v-w', '/mcp/~u_v-w'],
    ['/mcp/x;y', '/mcp/x;y'],
    ['/mcp/:a', '/mcp/:a'],
    ['', '/'],
  ])('%j is %j', (raw, normalized) => {
    expect(normalizeRequestTarget(raw)).toBe(normalized);
  });
});

describe('foreignRequest on a loopback-bound gateway', () => {
  const policy = originPolicy('127.0.0.1', []);
  // Loopback Host values are remembered; the memo never turns a foreign Host (or a foreign Origin) into an answer.
  it.each([1, 2])('answers the same way the %dth time a Host is seen', () => {
    expect(foreignRequest({ host: '127.0.0.1:8080' }, policy)).toBeUndefined();
    expect(foreignRequest({ host: 'LOCALHOST:8080' }, policy)).toBeUndefined();
    expect(foreignRequest({ host: '[::1]:8080' }, policy)).toBeUndefined();
    expect(foreignRequest({ host: 'evil.example:8080' }, policy)).toMatch(/not a loopback name/);
    expect(foreignRequest({ host: '127.0.0.1.evil.example' }, policy)).toMatch(/not a loopback name/);
    expect(foreignRequest({}, policy)).toMatch(/not a loopback name/);
    expect(foreignRequest({ host: '127.0.0.1:8080', origin: 'https://evil.example' }, policy)).toMatch(
      /Origin "https:\/\/evil.example" is not allowed/,
    );
  });

  it('keeps answering once more Host values than the memo holds were seen', () => {
    for (let port = 1; port <= 200; port++)
      expect(foreignRequest({ host: `127.0.0.1:${port}` }, policy)).toBeUndefined();
    expect(foreignRequest({ host: 'evil.example' }, policy)).toMatch(/not a loopback name/);
  });
});
