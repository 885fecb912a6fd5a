/**
 * A small in-memory cache of immutable results by key, with a time to live, a bound on entries (oldest evicted
 * first) and single flight: concurrent misses of one key share one load, so N proxies polling a new bundle
 * version at once cost one signature, not N. A failed load is forgotten at once.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V>; settled?: V }>();
  /** Loads started (misses); what a benchmark or a test counts. */
  loads = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The value of a fresh entry whose load has settled, without a promise: what `get` would resolve to, for a
   * caller that can answer synchronously on a hit. Undefined on a miss, an expired entry or a load in flight.
   */
  peek(key: string): V | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > this.now() ? hit.settled : undefined;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    this.loads++;
    const value = load();
    if (this.ttlMs <= 0) return value;
    if (hit) this.entries.delete(key);
    else if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry: { expires: number; value: Promise<V>; settled?: V } = {
      expires: this.now() + this.ttlMs,
      value,
    };
    this.entries.set(key, entry);
    value.then(
      (settled) => {
        entry.settled = settled;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
