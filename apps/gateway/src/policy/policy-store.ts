import { createHash, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import {
  BundleVerificationError,
  importPublicKey,
  PolicyCompileError,
  verifyBundle,
  type PolicyDocument,
} from '../../../../libs/policy/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';
import { loadPolicy, type LoadedPolicy } from './loaded-policy.js';

export interface PolicyStatus {
  source: string | null;
  version: string | null;
  file?: { path: string; version: string | null; loaded_at: string | null; last_error: string | null };
  bundle?: { version: string | null; loaded_at: string | null; last_error: string | null };
}

/** Reads and compiles a policy file (JSON or YAML); throws a readable error naming the problems. */
export function readPolicyFile(path: string): LoadedPolicy {
  const text = fs.readFileSync(path, 'utf8');
  let document: unknown;
  try {
    document = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new Error(`not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  try {
    const version = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    return loadPolicy(document as PolicyDocument, 'file', `file:${path}`, version);
  } catch (error) {
    if (error instanceof PolicyCompileError) {
      throw new Error(
        error.problems
          .map((p) => `${p.where}: ${p.message}`)
          .slice(0, 5)
          .join('; '),
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The `--policy` file, reloaded in process when it changes (polled by mtime, size and inode, so editors that
 * replace the file are seen too). A new version that does not parse or compile is refused: the last good
 * policy stays in force and `/healthz` shows the error.
 */
export class FilePolicy {
  current: LoadedPolicy;
  lastError: string | null = null;
  private listener?: (curr: fs.Stats, prev: fs.Stats) => void;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
    private readonly onLoad: (policy: LoadedPolicy) => void,
    /** Where human notices go (stderr for `gateway serve`). */
    private readonly notify: (line: string) => void,
    private readonly intervalMs = 500,
  ) {
    this.current = readPolicyFile(path); // at start a broken file is a configuration error
  }

  watch(): void {
    this.listener = (curr, prev) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
      if (curr.nlink === 0 && curr.size === 0) return; // removed: keep the last good policy
      this.reload();
    };
    fs.watchFile(this.path, { interval: this.intervalMs, persistent: false }, this.listener);
  }

  reload(): void {
    try {
      const next = readPolicyFile(this.path);
      if (next.version === this.current.version) return;
      this.current = next;
      this.lastError = null;
      this.logger.info({ source: next.source, version: next.version }, 'policy file reloaded');
      this.notify(`policy reloaded from ${this.path} (${next.version})`);
      this.onLoad(next);
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.warn(
        { source: this.path, error: this.lastError },
        'policy file refused; keeping the last good policy',
      );
      process.stderr.write(
        `policy file ${this.path} refused, keeping the last good policy: ${this.lastError}\n`,
      );
    }
  }

  close(): void {
    if (this.listener) fs.unwatchFile(this.path, this.listener);
  }
}

/**
 * A tenant's signed policy bundle from the control plane, polled with `If-None-Match`. A bundle is used only if
 * its Ed25519 signature verifies under a key from `/v1/policy/verification-key`, it is for this tenant, current,
 * and not older than the last one accepted (no rollback). Anything else keeps the last good bundle.
 */
export class BundlePolicy {
  current?: LoadedPolicy;
  lastError: string | null = null;
  /** False when the control plane has no bundle route (404): nothing to poll for. */
  available = true;
  private etag?: string;
  private minVersion = 0;
  private keys = new Map<string, KeyObject>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly link: ControlPlaneLink,
    private readonly logger: Logger,
    private readonly onLoad: (policy: LoadedPolicy) => void,
  ) {}

  /** One fetch; throws only on a bundle that is served but refused (the caller decides what that means at start). */
  async refresh(): Promise<void> {
    let result;
    try {
      result = await this.link.bundle(this.etag);
    } catch (error) {
      const status = (error as { details?: { status?: number } }).details?.status;
      if (status === 404) {
        if (this.available)
          this.logger.info(
            { tenant: this.link.tenant },
            'the control plane serves no policy bundle for this tenant',
          );
        this.available = false;
        return;
      }
      this.lastError = (error as Error).message;
      this.logger.warn(
        { tenant: this.link.tenant, error: this.lastError },
        'policy bundle fetch failed; keeping the last good policy',
      );
      return;
    }
    this.available = true;
    if (result.notModified || !result.body) return;
    try {
      const bundle = result.body;
      if (!this.keys.has(bundle.key_id)) await this.loadKeys();
      const payload = verifyBundle(bundle, {
        keys: this.keys,
        now: Date.now(),
        tenantId: this.link.tenant,
        minVersion: this.minVersion,
      });
      const loaded = loadPolicy(
        payload.policy,
        'control-plane',
        'control-plane bundle',
        String(payload.version),
      );
      this.current = loaded;
      this.minVersion = payload.version;
      this.etag = result.etag;
      this.lastError = null;
      this.logger.info(
        { tenant: this.link.tenant, version: payload.version, key_id: bundle.key_id },
        'policy bundle loaded',
      );
      this.onLoad(loaded);
    } catch (error) {
      const code = error instanceof BundleVerificationError ? `${error.code}: ` : '';
      this.lastError = `${code}${(error as Error).message}`;
      this.logger.error(
        { tenant: this.link.tenant, error: this.lastError },
        'policy bundle refused; keeping the last good policy',
      );
      throw new Error(`the control plane's policy bundle was refused (${this.lastError})`, { cause: error });
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async loadKeys(): Promise<void> {
    const answer = await this.link.verificationKeys();
    for (const key of answer.keys) {
      const source = key.public_key_pem ?? (key.jwk as never);
      if (!source) continue;
      this.keys.set(key.key_id, importPublicKey(source));
    }
  }
}
