import { describe, expect, it } from '@jest/globals';
import { acceptsGzip } from './bundle.controller.js';

describe('acceptsGzip (Accept-Encoding, RFC 9110 §12.5.3)', () => {
  it.each([
    ['gzip, deflate', true],
    ['gzip, deflate, br, zstd', true],
    ['br;q=1.0, GZIP;q=0.5', true],
    ['x-gzip', true],
    ['*', true],
    ['gzip;q=0', false],
    ['gzip;q=0, *', false],
    ['*;q=0', false],
    ['deflate, br', false],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('answers the same for a value seen before, and for more distinct values than it remembers', () => {
    for (let round = 0; round < 2; round++) {
      expect(acceptsGzip('gzip;q=0, *')).toBe(false);
      expect(acceptsGzip('gzip, deflate')).toBe(true);
    }
    for (let i = 0; i < 200; i++) {
      expect(acceptsGzip(`br;q=0.${i % 10}, gzip;q=${i % 2}`)).toBe(i % 2 === 1);
      expect(acceptsGzip(`deflate, x-${i}`)).toBe(false);
    }
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
  });
});
