import type { KeyObject } from 'node:crypto';
import { ControlPlaneError, type CallBudget } from '../../../control-plane-client/src/index.js';
import { BundleVerificationError, keyIdOf, verifyBundle } from '../../../policy/src/index.js';
import type { BundleState } from './bundle-store.js';
import {
  cachedFile,
  FailClosedError,
  firstLine,
  peek,
  type BundlePolicySourceOptions,
  type VerifiedBundle,
} from './bundle-types.js';
import { compileSnapshot, PolicySourceError } from './policy-file.js';
import { keysFromDocument } from './trust.js';

export { FailClosedError } from './bundle-types.js';
export type { BundleFetcher, BundlePolicySourceOptions, VerifiedBundle } from './bundle-types.js';

/** A quick probe at start-up: a client waits for us, so an unreachable control plane is known fast. */
const STARTUP_BUDGET: CallBudget = { maxAttempts: 2, maxTotalMs: 8_000, requestTimeoutMs: 4_000 };
const REFRESH_BUDGET: CallBudget = { maxAttempts: 1, requestTimeoutMs: 15_000 };
/** Revalidating a cached bundle at start: one short conditional request; the cache serves if it gets no answer. */
const REVALIDATE_BUDGET: CallBudget = { maxAttempts: 1, maxTotalMs: 2_000, requestTimeoutMs: 2_000 };
const TAMPER_CODES = new Set(['MALFORMED', 'UNKNOWN_KEY', 'BAD_SIGNATURE', 'TENANT_MISMATCH']);
const UNREACHABLE = new Set(['network', 'timeout', 'server', 'rate-limited', 'redirect']);

/**
 * A tenant's signed policy bundle from the control plane (`GET /v1/policy/bundle`), for the proxy and the gateway.
 *
 * Guarantees: a bundle is used only after its Ed25519 signature verifies against a trusted key (pinned, else the
 * control plane's published keys, cached in the store), it is for the expected tenant, its validity window holds,
 * and its version is not below the highest version ever accepted (the floor, kept in the store: across restarts
 * with a disk store). At start a cached bundle is revalidated once with `If-None-Match` and a short budget: a newer
 * bundle replaces it, a 304 keeps it, and the cache alone serves only when the control plane cannot answer (or
 * serves a bundle that is refused). A cached bundle that fails a check is refused; with no usable cache and no
 * good bundle from the control plane, `startup` throws `FailClosedError`. Later refresh failures keep the last
 * verified bundle and set `lastError`.
 */
export class BundlePolicySource {
  /** Why the last fetch or revalidation did not give a new bundle; null after an answer that did. */
  lastError: string | null = null;
  /** False after the control plane answered 404 (no bundle for this tenant), with `absentMeansNone`. */
  available = true;
  private state: BundleState = {};
  private keysText?: string;
  private current?: VerifiedBundle;
  private timer?: NodeJS.Timeout;
  private expiredReported = false;
  private outageReported = false;
  private readonly now: () => number;

  constructor(private readonly options: BundlePolicySourceOptions) {
    this.now = options.now ?? Date.now;
  }

  get bundle(): VerifiedBundle | undefined {
    return this.current;
  }

  /** The verified bundle in force at start; undefined only when `absentMeansNone` and the tenant has none. */
  async startup(): Promise<VerifiedBundle | undefined> {
    const { store } = this.options;
    const cache = await store.load();
    this.state = cache.state;
    this.keysText = cache.keys;
    let problem = '';
    if (!cache.bundle) {
      problem = store.persistent
        ? `no cached policy bundle in ${store.location}`
        : 'no cached policy bundle (the cache is in memory)';
    } else {
      let cached: VerifiedBundle | undefined;
      try {
        cached = this.verify(cache.bundle, 'cache');
      } catch (error) {
        const code = error instanceof BundleVerificationError ? error.code : 'UNREADABLE';
        const tampered = TAMPER_CODES.has(code) ? ' (tampered or corrupted)' : '';
        problem = `the cached policy bundle ${cachedFile(store)} was refused${tampered}: ${firstLine(error)}`;
        this.log('warn', problem);
      }
      if (cached) {
        this.current = cached;
        return this.revalidate(cached);
      }
    }
    try {
      const fetched = await this.fetch(undefined, STARTUP_BUDGET);
      if (!fetched)
        throw new FailClosedError(`${problem}, and the control plane answered 304 to a request without ETag`);
      return fetched;
    } catch (error) {
      if (error instanceof FailClosedError) throw error;
      if (this.absent(error)) return undefined;
      if (error instanceof ControlPlaneError) {
        const unreachable = UNREACHABLE.has(error.kind);
        throw new FailClosedError(
          `refusing to start (fail closed): ${problem}, and ${unreachable ? 'the control plane is unreachable' : 'the control plane refused the bundle request'}: ${error.message}`,
        );
      }
      if (error instanceof BundleVerificationError || error instanceof PolicySourceError) {
        throw new FailClosedError(
          `refusing to start (fail closed): ${problem}, and the policy bundle the control plane served was refused (${firstLine(error)})`,
        );
      }
      throw error;
    }
  }

  /** Fetches once; resolves with the new bundle when it changed, undefined when it did not (or on failure). */
  async refresh(): Promise<VerifiedBundle | undefined> {
    const kept = `keeping ${this.current ? `bundle v${this.current.payload.version}` : 'no bundle'}`;
    try {
      const fresh = await this.fetch(this.conditionalEtag(), REFRESH_BUDGET);
      if (this.outageReported) this.log('info', 'control plane reachable again for policy refresh');
      this.outageReported = false;
      return fresh;
    } catch (error) {
      if (this.absent(error)) return undefined;
      if (error instanceof ControlPlaneError) {
        this.lastError = `policy refresh failed (${kept}): ${error.message}`;
        if (!this.outageReported) this.log('warn', this.lastError);
        this.outageReported = true;
      } else if (error instanceof BundleVerificationError || error instanceof PolicySourceError) {
        this.lastError = `the control plane served a bundle that was refused (${kept}): ${firstLine(error)}`;
        this.log('error', this.lastError);
      } else {
        this.lastError = `policy refresh failed (${kept}): ${firstLine(error)}`;
        this.log('error', this.lastError);
      }
      this.reportExpiry();
      return undefined;
    }
  }

  /** Refreshes every `intervalMs` (±10 %), calling `onChange` with each newly accepted bundle. */
  startRefreshing(intervalMs: number, onChange: (bundle: VerifiedBundle) => void): void {
    const schedule = () => {
      const delay = intervalMs * (0.9 + Math.random() * 0.2);
      this.timer = setTimeout(async () => {
        const fresh = await this.refresh();
        if (fresh) onChange(fresh);
        if (this.timer) schedule();
      }, delay);
      this.timer.unref();
    };
    schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * A process shorter-lived than the refresh interval would otherwise run on the cached policy for its whole
   * life: ask once, conditionally, with a short budget.
   */
  private async revalidate(cached: VerifiedBundle): Promise<VerifiedBundle | undefined> {
    try {
      const fresh = await this.fetch(this.conditionalEtag(), REVALIDATE_BUDGET);
      if (fresh)
        this.log(
          'info',
          `policy bundle v${fresh.payload.version} replaces the cached v${cached.payload.version}`,
        );
      return this.current ?? cached;
    } catch (error) {
      if (this.absent(error)) return this.current;
      if (error instanceof ControlPlaneError) {
        this.lastError = `cannot revalidate the cached policy bundle v${cached.payload.version} (using it): ${error.message}`;
        this.log('warn', this.lastError);
      } else if (error instanceof BundleVerificationError || error instanceof PolicySourceError) {
        this.lastError = `the control plane served a bundle that was refused (using the cached v${cached.payload.version}): ${firstLine(error)}`;
        this.log('error', this.lastError);
      } else throw error;
      this.current = cached;
      return cached;
    }
  }

  /** A 404 with `absentMeansNone`: the tenant has no bundle; what is in force stays. */
  private absent(error: unknown): boolean {
    if (!this.options.absentMeansNone) return false;
    if (!(error instanceof ControlPlaneError) || error.details?.status !== 404) return false;
    if (this.available) this.log('info', 'the control plane serves no policy bundle for this tenant');
    this.available = false;
    this.lastError = null;
    return true;
  }

  private async fetch(etag: string | undefined, budget: CallBudget): Promise<VerifiedBundle | undefined> {
    const { client, store, pinned } = this.options;
    const response = await client.fetchPolicyBundle({ etag, ...budget });
    this.available = true;
    if (response.notModified) {
      this.lastError = null;
      return undefined;
    }
    const text = response.text ?? '';
    const keyId = peek(text, (b) => b.key_id);
    let keys = this.trustedKeys();
    if (!pinned && typeof keyId === 'string' && !keys.some((key) => keyIdOf(key) === keyId)) {
      // A key we do not know yet (first run, or the control plane rotated its key): fetch the published keys.
      const published = await client.fetchVerificationKeys(budget);
      this.keysText = published.text;
      keys = this.trustedKeys();
      if (published.text) await store.saveKeys(published.text);
    }
    const verified = this.verify(text, 'control_plane', keys);
    const previous = this.current;
    this.current = verified;
    this.state = {
      etag: response.etag,
      tenant_id: verified.payload.tenant_id,
      min_version: Math.max(
        verified.payload.version,
        this.state.tenant_id === verified.payload.tenant_id ? (this.state.min_version ?? 0) : 0,
      ),
      fetched_at: new Date(this.now()).toISOString(),
    };
    await store.saveBundle(text);
    await store.saveState(this.state);
    this.lastError = null;
    this.expiredReported = false;
    const changed =
      !previous || previous.payload.version !== verified.payload.version || previous.keyId !== verified.keyId;
    return changed ? verified : undefined;
  }

  private verify(text: string, origin: VerifiedBundle['origin'], keys = this.trustedKeys()): VerifiedBundle {
    const tenant = peek(text, (b) => (b.payload as { tenant_id?: unknown } | undefined)?.tenant_id);
    if (
      this.options.tenantId === undefined &&
      this.state.tenant_id !== undefined &&
      tenant !== undefined &&
      tenant !== this.state.tenant_id
    ) {
      this.log(
        'warn',
        `the control plane now serves tenant ${String(tenant)} (was ${this.state.tenant_id}); rollback floor reset`,
      );
    }
    const minVersion = tenant === this.state.tenant_id ? this.state.min_version : undefined;
    const payload = verifyBundle(text, {
      keys,
      now: this.now(),
      minVersion,
      ...(this.options.tenantId === undefined ? {} : { tenantId: this.options.tenantId }),
    });
    const policy = compileSnapshot(payload.policy, String(payload.version));
    return { payload, policy, keyId: String(peek(text, (b) => b.key_id)), origin };
  }

  private trustedKeys(): KeyObject[] {
    return this.options.pinned ? [...this.options.pinned] : keysFromDocument(this.keysText);
  }

  /** Conditional requests only while the bundle is in the first half of its validity: after that, re-issue. */
  private conditionalEtag(): string | undefined {
    const payload = this.current?.payload;
    if (!payload || !this.state.etag) return undefined;
    const issued = Date.parse(payload.issued_at);
    const expires = Date.parse(payload.expires_at);
    return this.now() < issued + (expires - issued) / 2 ? this.state.etag : undefined;
  }

  private reportExpiry(): void {
    const payload = this.current?.payload;
    if (!payload || this.expiredReported || this.now() < Date.parse(payload.expires_at)) return;
    this.expiredReported = true;
    this.log(
      'error',
      `policy bundle v${payload.version} expired at ${payload.expires_at}; still enforcing it until the control plane answers`,
    );
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    const all = this.options.logFields || fields ? { ...this.options.logFields, ...fields } : undefined;
    this.options.logger[level](message, all);
  }
}
