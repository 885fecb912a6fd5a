import type { Rate } from '../config/rate.js';
import { decisionFromWindow, slidingWindow, type RateDecision, type RateLimiter } from './rate-limiter.js';

const MAX_BUCKETS = 100_000;

/** In-process limiter for one replica. Bounded: stale buckets are dropped, oldest first, past 100,000. */
export class MemoryRateLimiter implements RateLimiter {
  readonly backend = 'memory' as const;
  private readonly buckets = new Map<string, { windowStart: number; current: number; previous: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async consume(bucket: string, rate: Rate): Promise<RateDecision> {
    const now = this.clock();
    const result = slidingWindow(this.buckets.get(bucket), now, rate);
    if (result.allowed) {
      this.buckets.delete(bucket); // re-insert: Map order is then least recently admitted first
      this.buckets.set(bucket, {
        windowStart: result.windowStart,
        current: result.current,
        previous: result.previous,
      });
      if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    }
    return decisionFromWindow(result, now, rate);
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
