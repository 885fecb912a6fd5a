import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Inject, Injectable } from '@nestjs/common';
import type { PolicyVerificationKeys } from '../../../libs/contracts/src/index.js';
import { publicKeyJwk, type BundlePayload } from '../../../libs/policy/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { BundleVersions } from './bundle-versions.js';
import { EMPTY_POLICY } from './effective-policy.js';
import { PolicyRepository } from './policy.repository.js';
import { noneMatchHits } from './preconditions.js';
import { TtlCache } from './ttl-cache.js';

/**
 * A signed bundle ready to send: its ETag, its JSON as UTF-8 bytes and those bytes gzipped (serialised, encoded and
 * compressed once, sent many times; pollers using fetch accept gzip).
 */
export interface ServedBundle {
  etag: string;
  body: Buffer;
  gzip: Buffer;
}

/** What a bundle poll is answered with: the bundle, or only its ETag when the poller's copy is current. */
export type BundleAnswer = ServedBundle | { etag: string; body: null };

const gzipAsync = promisify(gzip);

/** Signed bundles kept per (tenant, version, key): one per tenant in steady state. */
const MAX_CACHED_BUNDLES = 1024;

/** `"<bundle version>.<key id>"`: changes when the policy changes or the signing key rotates. */
export const bundleEtag = (version: number, keyId: string) => `"${version}.${keyId}"`;

/**
 * `GET /v1/policy/bundle` and `GET /v1/policy/verification-key`: the tenant's effective policy as a libs/policy
 * `SignedBundle`, signed with the control plane's current key (src/core/signing).
 *
 * Every request needs the tenant's bundle version: BundleVersions remembers it between polls and forgets it when
 * any replica commits a change (LISTEN/NOTIFY), else it is one primary-key read, so a committed change is served
 * at once. An `If-None-Match` equal to the current ETag is answered without signing or loading the
 * document. Otherwise the signed bundle is reused for `AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS` per (tenant,
 * version, key id), so N proxies polling cost one signature per replica per interval; `issued_at` is then up
 * to that old, which is why the cache may be at most half the bundle lifetime.
 */
@Injectable()
export class PolicyBundleService {
  private readonly cache: TtlCache<ServedBundle>;

  constructor(
    private readonly policies: PolicyRepository,
    private readonly versions: BundleVersions,
    private readonly signing: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cache = new TtlCache(config.policyBundleCacheSeconds * 1000, MAX_CACHED_BUNDLES);
  }

  /** Bundles signed by this process so far. */
  get signatures(): number {
    return this.cache.loads;
  }

  /**
   * The bundle, or `body: null` when `ifNoneMatch` already names the current one (a 304). Synchronous when the
   * tenant's version is remembered and its signed bundle cached (every poll in steady state): no promise hop.
   */
  bundle(principal: Principal, ifNoneMatch?: string): BundleAnswer | Promise<BundleAnswer> {
    const tenantId = principal.tenantId;
    const keyId = this.signing.currentKeyId;
    const remembered = this.versions.remembered(tenantId);
    if (remembered !== undefined) return this.answer(tenantId, remembered, keyId, ifNoneMatch);
    return this.versions
      .version(tenantId, () => this.policies.bundleVersion(tenantId))
      .then((version) => this.answer(tenantId, version, keyId, ifNoneMatch));
  }

  private answer(
    tenantId: string,
    version: number,
    keyId: string,
    ifNoneMatch: string | undefined,
  ): BundleAnswer | Promise<BundleAnswer> {
    const etag = bundleEtag(version, keyId);
    if (noneMatchHits(ifNoneMatch, etag)) return { etag, body: null };
    // The load reads version and document together; if a write landed in between it signs the newer version,
    // and its own ETag says so.
    const key = `${tenantId}\u0000${version}\u0000${keyId}`;
    return this.cache.peek(key) ?? this.cache.get(key, () => this.sign(tenantId));
  }

  private async sign(tenantId: string): Promise<ServedBundle> {
    const stored = await this.policies.findBundle(tenantId);
    const issued = Math.floor(Date.now() / 1000) * 1000;
    const payload: BundlePayload = {
      tenant_id: tenantId,
      version: stored?.version ?? 0,
      policy: stored?.document ?? EMPTY_POLICY,
      issued_at: timestamp(issued),
      expires_at: timestamp(issued + this.config.policyBundleTtlSeconds * 1000),
    };
    const signed = this.signing.signBundle(payload);
    const body = Buffer.from(JSON.stringify(signed));
    return { etag: bundleEtag(payload.version, signed.key_id), body, gzip: await gzipAsync(body) };
  }

  /** The current key first, then every retired key still trusted, so bundles signed before a rotation verify. */
  verificationKeys(): PolicyVerificationKeys {
    return {
      current_key_id: this.signing.currentKeyId,
      keys: this.signing.trustedKeys().map(({ id, key }) => {
        const jwk = publicKeyJwk(key);
        return {
          key_id: id,
          alg: 'Ed25519',
          public_key_pem: key.export({ type: 'spki', format: 'pem' }).toString(),
          jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, kid: jwk.kid, alg: 'EdDSA', use: 'sig' },
        };
      }),
    };
  }
}

/** RFC 3339 UTC to the second, e.g. `2026-03-01T00:00:00Z`. */
const timestamp = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
