/** Statuses worth retrying: the request may succeed later without change. Other 4xx never do. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Exponential backoff with "equal jitter": half of `min(max, base · 2^(attempt-1))` plus a random share of the
 * other half, so the retries of many endpoints spread out instead of arriving together.
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number; random: () => number },
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + options.random() * (exponential / 2));
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date. Undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3},? .* GMT$/.test(text)) return undefined; // HTTP dates only; Date.parse takes anything
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
