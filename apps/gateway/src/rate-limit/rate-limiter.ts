import type { Rate } from '../config/rate.js';

/** One decision: whether this request fits, and what the standard headers should say. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
  /** When refused: milliseconds until a request would fit again. */
  retryAfterMs: number;
}

/**
 * A shared-nothing or shared rate limiter. Algorithm (both backends): a sliding-window counter over fixed
 * windows of `rate.windowMs` — the estimate is `previous · (1 − elapsed/window) + current`, a request fits when
 * the estimate is below the limit, and only requests that fit are counted. From cold, exactly `limit` requests
 * fit in the first window; afterwards admission is smooth at `limit` per window, with no double burst at a
 * window boundary. Right after a boundary that follows a full window one more request fits (estimate just below
 * the limit): any window-long span admits at most `limit + 1`, the price of not under-admitting at steady load.
 */
export interface RateLimiter {
  readonly backend: 'memory' | 'postgres';
  consume(bucket: string, rate: Rate): Promise<RateDecision>;
  close(): Promise<void>;
}

/** The arithmetic both backends share (the PostgreSQL statement computes the same in SQL). */
export function slidingWindow(
  state: { windowStart: number; current: number; previous: number } | undefined,
  now: number,
  rate: Rate,
): { allowed: boolean; windowStart: number; current: number; previous: number; estimate: number } {
  const windowStart = now - (now % rate.windowMs);
  let current = 0;
  let previous = 0;
  if (state?.windowStart === windowStart) {
    current = state.current;
    previous = state.previous;
  } else if (state?.windowStart === windowStart - rate.windowMs) {
    previous = state.current;
  }
  const weight = 1 - (now - windowStart) / rate.windowMs;
  const estimate = previous * weight + current;
  const allowed = estimate < rate.limit;
  return {
    allowed,
    windowStart,
    current: allowed ? current + 1 : current,
    previous,
    estimate: allowed ? estimate + 1 : estimate,
  };
}

/** Headers of RFC 9331's successor draft (`RateLimit-*`) and `Retry-After` from a decision. */
export function decisionFromWindow(
  result: { allowed: boolean; windowStart: number; current: number; previous: number; estimate: number },
  now: number,
  rate: Rate,
): RateDecision {
  const resetMs = result.windowStart + rate.windowMs - now;
  let retryAfterMs = 0;
  if (!result.allowed) {
    if (result.current >= rate.limit || result.previous === 0) retryAfterMs = resetMs;
    else {
      // The estimate falls by `previous / window` per ms as the previous window's weight decays.
      const excess = result.estimate - rate.limit + 1;
      retryAfterMs = Math.min(resetMs, Math.ceil((excess * rate.windowMs) / result.previous));
    }
  }
  return {
    allowed: result.allowed,
    limit: rate.limit,
    remaining: Math.max(0, Math.floor(rate.limit - result.estimate)),
    resetMs,
    retryAfterMs,
  };
}
