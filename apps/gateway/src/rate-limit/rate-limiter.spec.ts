import { describe, expect, it } from '@jest/globals';
import { parseRate } from '../config/rate.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';

describe('sliding-window rate limiter (memory)', () => {
  const rate = parseRate('10/s');

  it('admits exactly the limit from cold, then refuses with Retry-After until the window moves', async () => {
    let now = 5_000;
    const limiter = new MemoryRateLimiter(() => now);
    const decisions = [];
    for (let i = 0; i < 15; i++) decisions.push(await limiter.consume('tenant:a', rate));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions[9]).toMatchObject({ allowed: true, remaining: 0, limit: 10 });
    expect(decisions[10]).toMatchObject({ allowed: false, retryAfterMs: 1000, resetMs: 1000 });
    now = 6_500; // next window half gone: the previous window still weighs 50%
    const half = [];
    for (let i = 0; i < 10; i++) half.push((await limiter.consume('tenant:a', rate)).allowed);
    expect(half.filter(Boolean)).toHaveLength(5);
  });

  it('smooths a steady overload to the limit per window, with no double burst at the boundary', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    let admitted = 0;
    for (now = 0; now < 10_000; now += 5) if ((await limiter.consume('t', rate)).allowed) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(99);
    expect(admitted).toBeLessThanOrEqual(101);
  });

  it('after a full window, one more fits at the start of the next: at most limit + 1 per window-long span', async () => {
    // The price of smooth steady-state admission (the test above): the estimate right after the boundary is
    // 10 × 0.999 < 10. A stricter rule (estimate + 1 <= limit) admits only 9 of 10 per window when saturated.
    let now = 5_999;
    const limiter = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 10; i++) expect((await limiter.consume('t', rate)).allowed).toBe(true);
    now = 6_001;
    expect((await limiter.consume('t', rate)).allowed).toBe(true);
    expect(await limiter.consume('t', rate)).toMatchObject({ allowed: false });
    now = 6_150; // 10 × 0.85 + 1 = 9.5 < 10
    expect((await limiter.consume('t', rate)).allowed).toBe(true);
    expect((await limiter.consume('t', rate)).allowed).toBe(false);
  });

  it('buckets are independent', async () => {
    const limiter = new MemoryRateLimiter(() => 0);
    for (let i = 0; i < 10; i++) await limiter.consume('tenant:a', rate);
    expect((await limiter.consume('tenant:a', rate)).allowed).toBe(false);
    expect((await limiter.consume('tenant:b', rate)).allowed).toBe(true);
  });
});
