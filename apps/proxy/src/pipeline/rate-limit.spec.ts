import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows N per window per tool and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 60_000, 10, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    now = 10_000;
    expect(limiter.take('a')).toBe(50_000);
    now = 60_000;
    expect(limiter.take('a')).toBe(0);
  });
});
