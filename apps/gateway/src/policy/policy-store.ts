import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  BundlePolicySource,
  DiskBundleStore,
  FilePolicySource,
  MemoryBundleStore,
  type BundleStore,
  type PolicySnapshot,
  type PolicySourceLogger,
} from '../../../../libs/runtime/src/index.js';
import { TENANT_ID_PATTERN } from '../../../../libs/contracts/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';
import { fromSnapshot, type LoadedPolicy } from './loaded-policy.js';

/**
 * The gateway's wiring of the shared policy sources (`libs/runtime` policy-source): what `/healthz`, decisions and
 * `policy.loaded` audit events read. The sources themselves (size and file-type checks, reload, verification,
 * rollback floor, revalidation at start) are the proxy's too.
 */

/** The `--policy` file, reloaded in process; a refused change keeps the last good policy (`lastError` says why). */
export class FilePolicy {
  current: LoadedPolicy;

  private constructor(
    private readonly source: FilePolicySource,
    private readonly logger: Logger,
    private readonly onLoad: (policy: LoadedPolicy) => void,
    /** Where human notices go (stderr for `gateway serve`). */
    private readonly notify: (line: string) => void,
  ) {
    this.current = fromSnapshot(source.current, 'file', `file:${source.path}`);
  }

  /** Throws `PolicySourceError` on a file that cannot be used (a configuration error at start). */
  static async open(
    file: string,
    logger: Logger,
    onLoad: (policy: LoadedPolicy) => void,
    notify: (line: string) => void,
  ): Promise<FilePolicy> {
    return new FilePolicy(await FilePolicySource.open(file), logger, onLoad, notify);
  }

  get path(): string {
    return this.source.path;
  }

  get lastError(): string | null {
    return this.source.lastError;
  }

  watch(): void {
    this.source.watch({
      onLoad: (snapshot) => {
        this.current = fromSnapshot(snapshot, 'file', `file:${this.path}`);
        this.logger.info(
          { source: this.current.source, version: this.current.version },
          'policy file reloaded',
        );
        this.notify(`policy reloaded from ${this.path} (${this.current.version})`);
        this.onLoad(this.current);
      },
      onRefused: (message) => {
        this.logger.warn(
          { source: this.path, error: message },
          'policy file refused; keeping the last good policy',
        );
        this.notify(`policy file ${this.path} refused, keeping the last good policy: ${message}`);
      },
    });
  }

  close(): void {
    this.source.close();
  }
}

/**
 * Where a tenant's bundle cache and rollback floor live: `<state dir>/policy/<tenant>/` when the gateway has a
 * state dir (the floor survives restarts), else memory (a restarted gateway accepts the first valid bundle again).
 */
export function bundleStoreFor(stateDir: string | undefined, tenant: string): BundleStore {
  if (!stateDir) return new MemoryBundleStore();
  // The tenant id comes from the control plane's answer: one that is not a valid id (`..`, a slash) must not
  // choose a path, so it is replaced by a digest.
  const name = TENANT_ID_PATTERN.test(tenant)
    ? tenant
    : `tenant-${createHash('sha256').update(tenant).digest('hex').slice(0, 16)}`;
  return new DiskBundleStore(path.join(stateDir, 'policy', name));
}

/**
 * A tenant's signed policy bundle, through that tenant's key. `start` revalidates the cache (or fetches) and throws
 * `FailClosedError` when no trusted bundle is available; a tenant without a bundle (404) is served without one.
 */
export class BundlePolicy {
  current?: LoadedPolicy;
  private readonly source: BundlePolicySource;

  constructor(
    private readonly link: ControlPlaneLink,
    tenant: string,
    store: BundleStore,
    private readonly logger: Logger,
    private readonly onLoad: (policy: LoadedPolicy) => void,
  ) {
    this.source = new BundlePolicySource({
      store,
      client: link.policyBundles,
      logger: pinoAdapter(logger),
      tenantId: tenant,
      absentMeansNone: true,
      logFields: { tenant },
    });
  }

  get lastError(): string | null {
    return this.source.lastError;
  }

  /** False when the control plane has no bundle for this tenant (404): nothing to enforce from it. */
  get available(): boolean {
    return this.source.available;
  }

  async start(intervalMs: number): Promise<void> {
    const bundle = await this.source.startup();
    if (bundle) this.loaded(bundle.policy, bundle.keyId, bundle.origin);
    this.source.startRefreshing(intervalMs, (fresh) => this.loaded(fresh.policy, fresh.keyId, fresh.origin));
  }

  close(): void {
    this.source.stop();
  }

  private loaded(snapshot: PolicySnapshot, keyId: string, origin: 'cache' | 'control_plane'): void {
    this.current = fromSnapshot(snapshot, 'control-plane', 'control-plane bundle');
    this.logger.info(
      { tenant: this.link.tenant, version: this.current.version, key_id: keyId, origin },
      'policy bundle loaded',
    );
    this.onLoad(this.current);
  }
}

/** pino takes (fields, message); the shared sources log (message, fields). */
function pinoAdapter(logger: Logger): PolicySourceLogger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
