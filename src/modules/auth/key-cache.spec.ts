import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../../core/auth/principal.js';
import { KeyCache } from './key-cache.js';

const principal = (keyId: string): Principal => ({
  tenantId: 't',
  role: 'viewer',
  subject: `key:${keyId}`,
  authMethod: 'api_key',
  keyId,
});

describe('KeyCache', () => {
  it('marks an entry fresh for the TTL, then stale (to be re-read) but still known', () => {
    const cache = new KeyCache(1000);
    cache.set('d1', principal('k1'), Infinity, 0);
    expect(cache.get('d1', 999)?.freshUntil).toBe(1000);
    expect(cache.get('d1', 5000)?.principal).toEqual(principal('k1'));
  });

  it("drops an entry at the key's own expiry, fresh or not", () => {
    const cache = new KeyCache(60_000);
    cache.set('d1', principal('k1'), 500, 0);
    expect(cache.get('d1', 499)).toBeDefined();
    expect(cache.get('d1', 500)).toBeUndefined();
  });

  it('evicts every entry of a key id at once (revocation on this replica)', () => {
    const cache = new KeyCache(60_000);
    cache.set('d1', principal('k1'), Infinity, 0);
    cache.set('d2', principal('k2'), Infinity, 0);
    cache.evictKey('k1');
    expect(cache.get('d1', 1)).toBeUndefined();
    expect(cache.get('d2', 1)).toBeDefined();
  });

  it('is bounded, dropping the least recently refreshed entry first', () => {
    const cache = new KeyCache(60_000, 2);
    cache.set('a', principal('a'), Infinity, 0);
    cache.set('b', principal('b'), Infinity, 0);
    cache.set('a', principal('a'), Infinity, 1); // refreshed: now the youngest
    cache.set('c', principal('c'), Infinity, 2);
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.get('a', 3)).toBeDefined();
    expect(cache.get('c', 3)).toBeDefined();
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new KeyCache(0);
    cache.set('a', principal('a'), Infinity, 0);
    expect(cache.get('a', 0)).toBeUndefined();
  });
});
