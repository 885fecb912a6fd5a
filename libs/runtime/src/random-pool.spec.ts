import { describe, expect, it } from '@jest/globals';
import { RANDOM_POOL, takeRandom } from './random-pool.js';

describe('the shared pool of CSPRNG bytes', () => {
  it('hands each byte out once: slices follow one another, and a slice that would not fit comes from a refill', () => {
    const first = takeRandom(16);
    const second = takeRandom(8);
    expect(second).toBe(first + 16);
    // Take up to the end: the next slice that does not fit starts a refilled pool at 0, with new bytes.
    const before = Buffer.from(RANDOM_POOL);
    const rest = RANDOM_POOL.length - (second + 8);
    if (rest > 0) expect(takeRandom(rest)).toBe(second + 8);
    expect(takeRandom(24)).toBe(0);
    expect(RANDOM_POOL.equals(before)).toBe(false);
  });
});
