import { hash } from 'node:crypto';

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
  /** Live entries: key → the sequence number of its latest `remember`. */
  private readonly seen = new Map<string, number>();
  /**
   * Every `remember`, oldest first (a ring read from `head`). Expiry and eviction walk this queue rather than
   * the map: a Map deleted from its front keeps the deleted slots until it rehashes, and walking them cost every
   * call thousands of steps once the guard was full. An entry whose key was remembered again later is stale
   * (its sequence number is not the map's) and is skipped.
   */
  private queue: Array<{ key: string; expires: number; seq: number }> = [];
  private head = 0;
  private seq = 0;

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
    const seq = ++this.seq;
    this.seen.set(key, seq);
    this.queue.push({ key, expires: this.now() + this.windowMs, seq });
    while (this.seen.size > this.capacity) this.forgetOldest();
    if (this.queue.length - this.head > 2 * this.capacity) this.compact();
  }

  private expire(): void {
    const now = this.now();
    while (this.head < this.queue.length && this.queue[this.head].expires <= now) this.forgetOldest();
  }

  /** Drops the queue's head, and its key when that entry is the key's latest. */
  private forgetOldest(): void {
    const entry = this.queue[this.head++];
    if (this.seen.get(entry.key) === entry.seq) this.seen.delete(entry.key);
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Only keys remembered again and again inside the window leave stale entries: keep the live ones. */
  private compact(): void {
    this.queue = this.queue.slice(this.head).filter((entry) => this.seen.get(entry.key) === entry.seq);
    this.head = 0;
  }

  get size(): number {
    return this.seen.size;
  }
}

function entryKey(idKey: string, fingerprint: string): string {
  const id = idKey.length > 64 ? hash('sha256', idKey, 'base64') : idKey;
  return `${id}\u0000${fingerprint}`;
}
