import { describe, expect, it } from '@jest/globals';
import { normalizeRequestTarget } from './request-guard.js';

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
