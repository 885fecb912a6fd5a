/**
 * Per-tool sliding-window rate limit: at most `limit` calls of one tool in any `windowMs`. A refused call does
 * not count. Memory is bounded: `limit` timestamps per tool, and at most `maxTools` tools tracked (the least
 * recently used is forgotten first).
 */
export class RateLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxTools = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Takes one call for `tool`; returns the wait in ms until one would be allowed, or 0 when taken. */
  take(tool: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    let times = this.calls.get(tool);
    if (times) this.calls.delete(tool);
    else times = [];
    this.calls.set(tool, times);
    while (times.length > 0 && times[0] <= now - this.windowMs) times.shift();
    if (times.length >= this.limit) return Math.max(1, times[0] + this.windowMs - now);
    times.push(now);
    while (this.calls.size > this.maxTools) this.calls.delete(this.calls.keys().next().value!);
    return 0;
  }
}
