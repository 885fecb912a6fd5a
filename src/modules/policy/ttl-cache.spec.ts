import { describe, expect, it } from '@jest/globals';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('loads once per key while fresh, again after the TTL', async () => {
    let now = 0;
    const cache = new TtlCache<number>(1000, 10, () => now);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('a', load)).toBe(1);
    expect(await cache.get('a', load)).toBe(1);
    now = 999;
    expect(await cache.get('a', load)).toBe(1);
    now = 1000;
    expect(await cache.get('a', load)).toBe(2);
    expect(cache.loads).toBe(2);
  });

  it('shares one load among concurrent misses (single flight)', async () => {
    const cache = new TtlCache<string>(1000, 10);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async () => {
      loads++;
      await gate;
      return 'signed';
    };
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    release();
    expect(await all).toEqual(Array(50).fill('signed'));
    expect(loads).toBe(1);
  });

  it('forgets a failed load at once', async () => {
    const cache = new TtlCache<string>(1000, 10);
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('k', async () => 'ok')).toBe('ok');
  });

  it('evicts the oldest entry beyond its bound, and caches nothing with a TTL of 0', async () => {
    const cache = new TtlCache<number>(1000, 2);
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => 1);
    expect(cache.size).toBe(2);
    await cache.get('a', async () => 2);
    expect(cache.loads).toBe(4); // 'a' was evicted
    const none = new TtlCache<number>(0, 2);
    await none.get('a', async () => 1);
    await none.get('a', async () => 1);
    expect([none.loads, none.size]).toEqual([2, 0]);
  });

  it('peek gives a fresh settled value only: not a miss, a load in flight, a failed load or an expired entry', async () => {
    let now = 0;
    const cache = new TtlCache<string>(1000, 10, () => now);
    expect(cache.peek('k')).toBeUndefined();
    let release!: (value: string) => void;
    const loading = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)));
    expect(cache.peek('k')).toBeUndefined(); // in flight: callers must wait on get()
    release('signed');
    expect(await loading).toBe('signed');
    expect(cache.peek('k')).toBe('signed');
    expect(cache.loads).toBe(1);
    now = 1000;
    expect(cache.peek('k')).toBeUndefined(); // expired: get() loads again
    await expect(cache.get('bad', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await Promise.resolve();
    expect(cache.peek('bad')).toBeUndefined();
  });
});
