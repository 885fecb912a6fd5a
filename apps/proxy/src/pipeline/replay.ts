/**
 * Replay detection. JSON-RPC lets a client reuse an id once its response has arrived, so an id alone proves
 * nothing; what a replay looks like on a stdio connection is the *same id with the same payload* arriving again
 * (a re-sent frame, a confused or hostile client re-issuing a side-effecting call). The guard remembers
 * `(id, fingerprint of method + params without _meta)` of every request it let through, for `windowMs`, in an
 * exact insertion-ordered map bounded by `capacity` (oldest forgotten first). `_meta` is left out on purpose: a
 * replay with a fresh `traceparent` or progress token is still the same call.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** True when this id and payload were already let through inside the window. */
  isReplay(idKey: string, fingerprint: string): boolean {
    if (!this.enabled) return false;
    this.expire();
    return this.seen.has(`${idKey}\u0000${fingerprint}`);
  }

  remember(idKey: string, fingerprint: string): void {
    if (!this.enabled) return;
    const key = `${idKey}\u0000${fingerprint}`;
    this.seen.delete(key);
    this.seen.set(key, this.now() + this.windowMs);
    while (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
  }

  private expire(): void {
    const now = this.now();
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
