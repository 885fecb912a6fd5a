import type { Principal } from '../../core/auth/principal.js';

interface Entry {
  principal: Principal;
  /** The key's own hard limits, re-checked on every hit so a cached key never outlives them. */
  notAfter: number;
  cachedUntil: number;
}

/**
 * A short-lived cache of verified keys, so the hot path does not pay scrypt on every request.
 * Keyed by a SHA-256 digest of the raw key, never the key itself. Bounded in size.
 * Revocation or rotation on this replica evicts at once; other replicas see it within the TTL.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(digest: string, now = Date.now()): Principal | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.cachedUntil <= now || entry.notAfter <= now) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry.principal;
  }

  set(digest: string, principal: Principal, notAfter: number, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(digest, { principal, notAfter, cachedUntil: now + this.ttlMs });
  }

  evictKey(keyId: string): void {
    for (const [digest, entry] of this.entries) {
      if (entry.principal.keyId === keyId) this.entries.delete(digest);
    }
  }
}
