import type { KeyObject } from 'node:crypto';
import {
  ControlPlaneError,
  type CallBudget,
  type ControlPlaneClient,
} from '../../../../libs/control-plane-client/src/index.js';
import {
  BundleVerificationError,
  keyIdOf,
  PolicyCompileError,
  verifyBundle,
  type BundlePayload,
} from '../../../../libs/policy/src/index.js';
import type { ProxyLogger } from '../logger.js';
import type { BundleState, BundleStore } from './bundle-store.js';
import { compileLoaded, type LoadedPolicy } from './policy-set.js';
import { keysFromDocument } from './trust.js';

/** The proxy cannot obtain a policy it can trust: it must not start (exit 1, message on stderr). */
export class FailClosedError extends Error {
  override name = 'FailClosedError';
}

export interface VerifiedBundle {
  readonly payload: BundlePayload;
  readonly loaded: LoadedPolicy;
  readonly keyId: string;
  /** Where it came from this time. */
  readonly origin: 'cache' | 'control_plane';
}

/** A quick probe at start-up: a desktop client waits for us, so an unreachable control plane is known fast. */
const STARTUP_BUDGET: CallBudget = { maxAttempts: 2, maxTotalMs: 8_000, requestTimeoutMs: 4_000 };
const REFRESH_BUDGET: CallBudget = { maxAttempts: 1, requestTimeoutMs: 15_000 };
/** Revalidating a cached bundle at start: one short conditional request; the cache serves if it gets no answer. */
const REVALIDATE_BUDGET: CallBudget = { maxAttempts: 1, maxTotalMs: 2_000, requestTimeoutMs: 2_000 };
const TAMPER_CODES = new Set(['MALFORMED', 'UNKNOWN_KEY', 'BAD_SIGNATURE', 'TENANT_MISMATCH']);

/**
 * The control-plane policy bundle: verified from the disk cache at start, fetched when the cache is missing or
 * refused, refreshed periodically with `If-None-Match`.
 *
 * Guarantees: a bundle is used only after its Ed25519 signature verifies against a trusted key (pinned with
 * `--policy-public-key`, else the control plane's published keys, cached beside it), its validity window holds,
 * and its version is not below the highest version ever accepted here (persisted: no rollback across restarts).
 * At start, a cached bundle that fails any check is refused; if the control plane cannot supply a good one at
 * that moment, `startup` throws `FailClosedError`. Later refresh failures keep the last verified bundle.
 */
export class BundleSync {
  private state: BundleState = {};
  private keysText?: string;
  private current?: VerifiedBundle;
  private timer?: NodeJS.Timeout;
  private expiredReported = false;
  private outageReported = false;

  constructor(
    private readonly store: BundleStore,
    private readonly client: ControlPlaneClient,
    private readonly pinned: readonly KeyObject[] | undefined,
    private readonly logger: ProxyLogger,
    private readonly now: () => number = Date.now,
  ) {}

  get bundle(): VerifiedBundle | undefined {
    return this.current;
  }

  async startup(): Promise<VerifiedBundle> {
    const cache = await this.store.load();
    this.state = cache.state;
    this.keysText = cache.keys;
    let problem = '';
    if (!cache.bundle) {
      problem = `no cached policy bundle in ${this.store.dir}`;
    } else {
      try {
        this.current = this.verify(cache.bundle, 'cache');
      } catch (error) {
        const code = error instanceof BundleVerificationError ? error.code : 'UNREADABLE';
        const tampered = TAMPER_CODES.has(code) ? ' (tampered or corrupted)' : '';
        problem = `the cached policy bundle ${this.store.path('bundle.json')} was refused${tampered}: ${(error as Error).message}`;
        this.logger.warn(problem);
      }
      if (this.current) return this.revalidate(this.current);
    }
    try {
      const fetched = await this.fetch(undefined, STARTUP_BUDGET);
      if (!fetched)
        throw new FailClosedError(`${problem}, and the control plane answered 304 to a request without ETag`);
      return fetched;
    } catch (error) {
      if (error instanceof FailClosedError) throw error;
      if (error instanceof ControlPlaneError) {
        const unreachable = ['network', 'timeout', 'server', 'rate-limited', 'redirect'].includes(error.kind);
        throw new FailClosedError(
          `refusing to start (fail closed): ${problem}, and ${unreachable ? 'the control plane is unreachable' : 'the control plane refused the bundle request'}: ${error.message}`,
        );
      }
      if (error instanceof BundleVerificationError || error instanceof PolicyCompileError) {
        throw new FailClosedError(
          `refusing to start (fail closed): ${problem}, and the bundle the control plane served was refused: ${error.message.split('\n')[0]}`,
        );
      }
      throw error;
    }
  }

  /**
   * A session shorter than the refresh interval would otherwise run on the cached policy for its whole life:
   * ask the control plane once, conditionally (`If-None-Match`), with a short budget. A newer bundle replaces
   * the cache; a 304 keeps it; the cache alone serves only when the control plane cannot answer in time.
   */
  private async revalidate(cached: VerifiedBundle): Promise<VerifiedBundle> {
    try {
      const fresh = await this.fetch(
        this.wantsConditional() ? this.state.etag : undefined,
        REVALIDATE_BUDGET,
      );
      if (fresh)
        this.logger.info(
          `policy bundle v${fresh.payload.version} replaces the cached v${cached.payload.version}`,
        );
      return this.current ?? cached;
    } catch (error) {
      if (error instanceof ControlPlaneError) {
        this.logger.warn(
          `cannot revalidate the cached policy bundle v${cached.payload.version} (using it): ${error.message}`,
        );
      } else {
        this.logger.error(
          `the control plane served a bundle that was refused (using the cached v${cached.payload.version}): ${(error as Error).message}`,
        );
      }
      this.current = cached;
      return cached;
    }
  }

  /** Fetches once; resolves with the new bundle when it changed, undefined when it did not (or on failure). */
  async refresh(): Promise<VerifiedBundle | undefined> {
    try {
      const fresh = await this.fetch(this.wantsConditional() ? this.state.etag : undefined, REFRESH_BUDGET);
      if (this.outageReported) this.logger.info('control plane reachable again for policy refresh');
      this.outageReported = false;
      return fresh;
    } catch (error) {
      if (error instanceof ControlPlaneError) {
        if (!this.outageReported)
          this.logger.warn(
            `policy refresh failed (keeping bundle v${this.current?.payload.version}): ${error.message}`,
          );
        this.outageReported = true;
      } else if (error instanceof BundleVerificationError) {
        this.logger.error(
          `the control plane served a bundle that was refused (keeping v${this.current?.payload.version}): ${error.message}`,
        );
      } else {
        this.logger.error(`policy refresh failed: ${(error as Error).message}`);
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

  private async fetch(etag: string | undefined, budget: CallBudget): Promise<VerifiedBundle | undefined> {
    const response = await this.client.fetchPolicyBundle({ etag, ...budget });
    if (response.notModified) return undefined;
    const text = response.text ?? '';
    const keyId = peek(text, (b) => b.key_id);
    let keys = this.trustedKeys();
    if (!this.pinned && typeof keyId === 'string' && !keys.some((key) => keyIdOf(key) === keyId)) {
      // A key we do not know yet (first run, or the control plane rotated its key): fetch the published keys.
      const published = await this.client.fetchVerificationKeys(budget);
      this.keysText = published.text;
      keys = this.trustedKeys();
      if (published.text) await this.store.saveKeys(published.text);
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
    await this.store.saveBundle(text);
    await this.store.saveState(this.state);
    this.expiredReported = false;
    const changed =
      !previous || previous.payload.version !== verified.payload.version || previous.keyId !== verified.keyId;
    return changed ? verified : undefined;
  }

  private verify(text: string, origin: VerifiedBundle['origin'], keys = this.trustedKeys()): VerifiedBundle {
    const tenant = peek(text, (b) => (b.payload as { tenant_id?: unknown } | undefined)?.tenant_id);
    if (this.state.tenant_id !== undefined && tenant !== undefined && tenant !== this.state.tenant_id) {
      this.logger.warn(
        `the control plane now serves tenant ${String(tenant)} (was ${this.state.tenant_id}); rollback floor reset`,
      );
    }
    const minVersion = tenant === this.state.tenant_id ? this.state.min_version : undefined;
    const payload = verifyBundle(text, { keys, now: this.now(), minVersion });
    const loaded = compileLoaded('control_plane', payload.policy, String(payload.version));
    return { payload, loaded, keyId: String(peek(text, (b) => b.key_id)), origin };
  }

  private trustedKeys(): KeyObject[] {
    return this.pinned ? [...this.pinned] : keysFromDocument(this.keysText);
  }

  /** Conditional requests only while the bundle is in the first half of its validity: after that, re-issue. */
  private wantsConditional(): boolean {
    const payload = this.current?.payload;
    if (!payload || !this.state.etag) return false;
    const issued = Date.parse(payload.issued_at);
    const expires = Date.parse(payload.expires_at);
    return this.now() < issued + (expires - issued) / 2;
  }

  private reportExpiry(): void {
    const payload = this.current?.payload;
    if (!payload || this.expiredReported || this.now() < Date.parse(payload.expires_at)) return;
    this.expiredReported = true;
    this.logger.error(
      `policy bundle v${payload.version} expired at ${payload.expires_at}; still enforcing it until the control plane answers`,
    );
  }
}

function peek(text: string, pick: (bundle: Record<string, unknown>) => unknown): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? pick(parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
