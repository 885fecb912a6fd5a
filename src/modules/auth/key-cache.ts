import type { Principal } from '../../core/auth/principal.js';

export interface CachedKey {
  principal: Principal;
  /** The key's own hard limit (expiry or end of rotation overlap), checked on every hit. */
  notAfter: number;
  /** Until when the key's state (revoked, expired, rotated) counts as fresh; after that it must be re-read. */
  freshUntil: number;
}

/**
 * Verified API keys, keyed by a SHA-256 digest of the raw key (never the key itself), bounded in size.
 *
 * Two clocks: the secret check is remembered for as long as the entry lives (the stored digest of a key never
 * changes), while the key's *state* is only trusted for the TTL, after which the authenticator re-reads it by
 * primary key. So the hot path reads the key's row once per key per process, and a revocation made on another replica
 * applies here within the TTL. A revocation or rotation on this replica evicts at once.
 */
export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The entry, or undefined when absent or past the key's hard limit. Callers check `freshUntil`. */
  get(digest: string, now = Date.now()): CachedKey | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.notAfter <= now) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry;
  }

  set(digest: string, principal: Principal, notAfter: number, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(digest); // re-insert at the young end
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(digest, { principal, notAfter, freshUntil: now + this.ttlMs });
  }

  delete(digest: string): void {
    this.entries.delete(digest);
  }

  evictKey(keyId: string): void {
    for (const [digest, entry] of this.entries) {
      if (entry.principal.keyId === keyId) this.entries.delete(digest);
    }
  }
}
