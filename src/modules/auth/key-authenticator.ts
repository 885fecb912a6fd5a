import { Injectable, Logger } from '@nestjs/common';
import type { Principal, PrincipalResolver } from '../../core/auth/principal.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { isUsable, notAfter } from './api-keys.mapper.js';
import { KeyCache } from './key-cache.js';
import { cacheDigest, looksLikeApiKey, lookupPrefixOf, verifySecret } from './key-secret.js';

/**
 * Turns a presented API key into a principal.
 * Guarantees: a key is accepted only if its scrypt hash verifies (constant-time compare) and it is neither
 * revoked, expired nor past its rotation overlap; the principal's tenant is the key's row's tenant.
 * Verified keys are cached for the configured TTL, which bounds how long a revocation made on another replica
 * takes to apply here (a revocation on this replica applies at once).
 */
@Injectable()
export class KeyAuthenticator implements PrincipalResolver {
  private readonly logger = new Logger(KeyAuthenticator.name);

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly cache: KeyCache,
  ) {}

  async resolve(credential: string): Promise<Principal | undefined> {
    if (!looksLikeApiKey(credential)) return undefined;
    const digest = cacheDigest(credential);
    const cached = this.cache.get(digest);
    if (cached) return cached;

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
      };
      this.cache.set(digest, principal, notAfter(key), now.getTime());
      // last_used_at is refreshed on cache misses, i.e. at most once per TTL per replica.
      this.keys.touchLastUsed(key.tenantId, key.id, now).catch((error: unknown) => {
        this.logger.warn(`could not record last use of key ${key.id}: ${String(error)}`);
      });
      return principal;
    }
    return undefined;
  }
}
