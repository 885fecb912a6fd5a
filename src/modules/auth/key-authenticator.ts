import { Injectable, Logger } from '@nestjs/common';
import type { Principal, PrincipalResolver } from '../../core/auth/principal.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { isUsable, notAfter } from './api-keys.mapper.js';
import { KeyCache } from './key-cache.js';
import { cacheDigest, looksLikeApiKey, lookupPrefixOf, verifySecret } from './key-secret.js';

/**
 * Turns a presented API key into a principal.
 *
 * Guarantees: a key is accepted only if its stored digest verifies (constant-time compare) and it is neither
 * revoked, expired nor past its rotation overlap; the principal's tenant is the stored row's tenant.
 * A key's state is re-read from the database at least every cache TTL, which bounds how long a revocation made
 * on another replica takes to apply here; on this replica it applies at once.
 * Concurrent requests with the same key share one verification.
 */
@Injectable()
export class KeyAuthenticator implements PrincipalResolver {
  private readonly logger = new Logger(KeyAuthenticator.name);
  private readonly inFlight = new Map<string, Promise<Principal | undefined>>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly cache: KeyCache,
  ) {}

  /**
   * The principal of a key verified before whose state is still fresh (the first check of `resolve`), without a
   * promise: what an authenticated poll costs in steady state. Undefined otherwise; `resolve` then decides.
   */
  cached(credential: string): Principal | undefined {
    if (!looksLikeApiKey(credential)) return undefined;
    const cached = this.cache.get(cacheDigest(credential));
    return cached && cached.freshUntil > Date.now() ? cached.principal : undefined;
  }

  async resolve(credential: string): Promise<Principal | undefined> {
    if (!looksLikeApiKey(credential)) return undefined;
    const digest = cacheDigest(credential);
    const cached = this.cache.get(digest);
    if (cached && cached.freshUntil > Date.now()) return cached.principal;

    const pending = this.inFlight.get(digest);
    if (pending) return pending;
    const work = (cached ? this.recheck(digest, cached.principal) : this.verify(digest, credential)).finally(
      () => this.inFlight.delete(digest),
    );
    this.inFlight.set(digest, work);
    return work;
  }

  /**
   * For introspection: the principal of `credential` only if it is a usable key of `tenantId`. Only a cached key
   * of this tenant answers from the cache. Any other key — unknown, or another tenant's whether this process has
   * it cached or not — pays the same one indexed in-tenant lookup and no secret check, is not stamped as used and is
   * not cached here, so the answer's content and timing say nothing about other tenants' keys.
   */
  async resolveInTenant(credential: string, tenantId: string): Promise<Principal | undefined> {
    if (!looksLikeApiKey(credential)) return undefined;
    const cached = this.cache.get(cacheDigest(credential));
    if (cached && cached.freshUntil > Date.now() && cached.principal.tenantId === tenantId) {
      return cached.principal;
    }
    const candidates = await this.keys.findByLookupPrefixInTenant(tenantId, lookupPrefixOf(credential));
    if (candidates.length === 0) return undefined;
    const principal = await this.resolve(credential);
    return principal?.tenantId === tenantId ? principal : undefined;
  }

  /** Full verification: candidates by lookup prefix, digest check, state. */
  private async verify(digest: string, credential: string): Promise<Principal | undefined> {
    const now = new Date();
    for (const key of await this.keys.findByLookupPrefix(lookupPrefixOf(credential))) {
      if (!(await verifySecret(credential, key.secretHash))) continue;
      if (!isUsable(key, now)) return undefined;
      const principal: Principal = {
        tenantId: key.tenantId,
        role: key.role,
        subject: `key:${key.name}`,
        authMethod: 'api_key',
        keyId: key.id,
        sourceId: key.sourceId ?? null,
      };
      this.cache.set(digest, principal, notAfter(key), now.getTime());
      this.touch(principal, now);
      return principal;
    }
    return undefined;
  }

  /** The secret was verified before; only the key's state may have changed since. */
  private async recheck(digest: string, principal: Principal): Promise<Principal | undefined> {
    const now = new Date();
    const key = await this.keys.findById(principal.tenantId, principal.keyId!);
    if (!key || !isUsable(key, now)) {
      this.cache.delete(digest);
      return undefined;
    }
    this.cache.set(digest, principal, notAfter(key), now.getTime());
    this.touch(principal, now);
    return principal;
  }

  /** last_used_at is refreshed off the request path, at most once per TTL per key per replica. */
  private touch(principal: Principal, now: Date): void {
    this.keys.touchLastUsed(principal.tenantId, principal.keyId!, now).catch((error: unknown) => {
      this.logger.warn(`could not record last use of key ${principal.keyId}: ${String(error)}`);
    });
  }
}
