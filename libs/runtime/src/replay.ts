import { createHash } from 'node:crypto';

/**
 * Replay detection. JSON-RPC lets a client reuse an id once its response has arrived, so an id alone proves
 * nothing; what a replay looks like on a stdio connection is the *same id with the same payload* arriving again
 * (a re-sent frame, a confused or hostile client re-issuing a side-effecting call). The guard remembers
 * `(id, fingerprint of method + params without _meta)` of every request it let through, for `windowMs`, in an
 * exact insertion-ordered map bounded by `capacity` (oldest forgotten first). `_meta` is left out on purpose: a
 * replay with a fresh `traceparent` or progress token is still the same call.
 *
 * Bounded by time (entries expire after `windowMs`, oldest first, amortised O(1) per call: expiry stops at the
 * first live entry) and by memory (`capacity` entries of bounded size: a long id is hashed). Only calls that
 * act are remembered (pings, initialize and list requests are not, see RequestPipeline), so a flood of cheap
 * messages cannot push a remembered call out.
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
    return this.seen.has(entryKey(idKey, fingerprint));
  }

  remember(idKey: string, fingerprint: string): void {
    if (!this.enabled) return;
    const key = entryKey(idKey, fingerprint);
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

function entryKey(idKey: string, fingerprint: string): string {
  const id = idKey.length > 64 ? createHash('sha256').update(idKey).digest('base64') : idKey;
  return `${id}\u0000${fingerprint}`;
}
