import { describe, expect, it } from '@jest/globals';
import { ControlPlaneError } from './errors.js';
import { displayUrl, isLoopbackHost, resolvePushUrl } from './url.js';

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'api.localhost',
    '127.0.0.1',
    '127.1.2.3',
    '[::1]',
    '::1',
    '[::ffff:7f00:1]',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true));
  it.each([
    'example.com',
    '10.0.0.1',
    '128.0.0.1',
    '0.0.0.0',
    '[::2]',
    'localhost.example.com',
    '127.0.0.1.nip.io',
  ])('%s is not loopback', (host) => expect(isLoopbackHost(host)).toBe(false));
});

describe('resolvePushUrl', () => {
  it.each([
    ['https://cp.example.com', 'https://cp.example.com/v1/fleet/sync'],
    ['https://cp.example.com/', 'https://cp.example.com/v1/fleet/sync'],
    ['https://cp.example.com/v1/fleet/sync', 'https://cp.example.com/v1/fleet/sync'],
    ['https://cp.example.com/agent-bom/v1/fleet/sync', 'https://cp.example.com/agent-bom/v1/fleet/sync'],
    ['http://127.0.0.1:8422', 'http://127.0.0.1:8422/v1/fleet/sync'],
    ['http://localhost:8422/', 'http://localhost:8422/v1/fleet/sync'],
    ['http://[::1]:8422', 'http://[::1]:8422/v1/fleet/sync'],
  ])('%s → %s', (raw, resolved) => expect(resolvePushUrl(raw).href).toBe(resolved));

  it.each([
    [
      'http://cp.example.com/v1/fleet/sync',
      'insecure-url',
      /refusing to send the API key over plain http to cp\.example\.com/,
    ],
    ['http://10.0.0.5:8422', 'insecure-url', /use https/],
    ['ftp://cp.example.com', 'invalid-url', /must be https/],
    ['cp.example.com', 'invalid-url', /not a valid absolute URL/],
    ['https://user:pass@cp.example.com', 'invalid-url', /must not carry credentials/],
  ])('refuses %s', (raw, kind, message) => {
    let error: unknown;
    try {
      resolvePushUrl(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as ControlPlaneError).kind).toBe(kind);
    expect((error as ControlPlaneError).message).toMatch(message);
    expect((error as ControlPlaneError).message).not.toContain('pass@');
  });
});

describe('displayUrl', () => {
  it('drops the query', () => {
    expect(displayUrl(new URL('https://h.example/v1/fleet/sync?x=1'))).toBe(
      'https://h.example/v1/fleet/sync',
    );
  });
});
