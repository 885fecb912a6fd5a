import { describe, expect, it } from '@jest/globals';
import { backoffDelayMs, parseRetryAfter } from './retry.js';

describe('backoffDelayMs', () => {
  const options = (random: number) => ({ baseMs: 500, maxMs: 4000, random: () => random });
  it('doubles per attempt, with jitter in the upper half, capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, options(0)))).toEqual([250, 500, 1000, 2000, 2000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, options(1)))).toEqual([500, 1000, 2000, 4000, 4000]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ])('%s → %i ms', (value, ms) => expect(parseRetryAfter(value, now)).toBe(ms));
  it.each([null, '', 'soon', '-1', '1.5'])('%j → undefined', (value) =>
    expect(parseRetryAfter(value, now)).toBeUndefined(),
  );
});
