import type { KeyObject } from 'node:crypto';
import type { PolicyVerificationKeys } from '../../../contracts/src/index.js';
import type { CallBudget, GetResult } from '../../../control-plane-client/src/index.js';
import type { BundlePayload } from '../../../policy/src/index.js';
import type { BundleStore } from './bundle-store.js';
import type { PolicySourceLogger } from './logger.js';
import type { PolicySnapshot } from './policy-file.js';

/** No policy that can be trusted is available at start: the process must not serve (exit 1, message said). */
export class FailClosedError extends Error {
  override name = 'FailClosedError';
}

/** The two control-plane calls a bundle source makes (`ControlPlaneClient` has them). */
export interface BundleFetcher {
  fetchPolicyBundle(options: { etag?: string } & CallBudget): Promise<GetResult<unknown>>;
  fetchVerificationKeys(options: CallBudget): Promise<GetResult<PolicyVerificationKeys>>;
}

export interface VerifiedBundle {
  readonly payload: BundlePayload;
  readonly policy: PolicySnapshot;
  readonly keyId: string;
  /** Where it came from this time. */
  readonly origin: 'cache' | 'control_plane';
}

export interface BundlePolicySourceOptions {
  store: BundleStore;
  client: BundleFetcher;
  logger: PolicySourceLogger;
  /** Trust only these keys (`--policy-public-key`); otherwise the control plane's published keys, cached. */
  pinned?: readonly KeyObject[];
  /** The tenant the key belongs to, when known: a bundle for another tenant is refused (TENANT_MISMATCH). */
  tenantId?: string;
  /** A 404 means "this tenant has no bundle" (serve without one) instead of a refusal (the gateway's case). */
  absentMeansNone?: boolean;
  /** Added to every log line (e.g. the tenant). */
  logFields?: Record<string, unknown>;
  now?: () => number;
}

export function cachedFile(store: BundleStore): string {
  return store.persistent ? `${store.location.replace(/\/+$/, '')}/bundle.json` : '(in memory)';
}

export function firstLine(error: unknown): string {
  return (error as Error).message.split('\n')[0];
}

export function peek(text: string, pick: (bundle: Record<string, unknown>) => unknown): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? pick(parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
