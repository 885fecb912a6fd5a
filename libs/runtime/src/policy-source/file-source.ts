import fs from 'node:fs';
import {
  MAX_POLICY_FILE_BYTES,
  PolicySourceError,
  readPolicyFile,
  type PolicySnapshot,
} from './policy-file.js';

export interface FilePolicySourceOptions {
  maxBytes?: number;
  /** Poll interval of `watch()` (default 500 ms). */
  intervalMs?: number;
}

/** What a watching owner is told about reloads. */
export interface FilePolicyEvents {
  /** A new version was loaded (not called for the first load). */
  onLoad?: (snapshot: PolicySnapshot) => void;
  /** A changed file was refused; the last good policy stays in force. `message` names the problem. */
  onRefused?: (message: string) => void;
}

/**
 * A policy file, reloaded in process when it changes (polled by mtime, size and inode, so editors and ConfigMap
 * updates that replace the file are seen too).
 *
 * Guarantees: `open` refuses a file that is missing, not a regular file, over the size limit, unparsable or not a
 * valid policy (a process must never run with a policy it could not read); after that, a change that fails any of
 * those checks is refused, `current` keeps the last good policy and `lastError` says why until a good version loads.
 * Reloads never overlap: a change seen during a reload is read after it.
 */
export class FilePolicySource {
  lastError: string | null = null;
  private listener?: (curr: fs.Stats, prev: fs.Stats) => void;
  private reloading: Promise<boolean> = Promise.resolve(false);
  private events: FilePolicyEvents = {};

  private constructor(
    readonly path: string,
    public current: PolicySnapshot,
    private readonly options: FilePolicySourceOptions,
  ) {}

  /** Reads the file once; throws `PolicySourceError` on any problem (a configuration error at start). */
  static async open(path: string, options: FilePolicySourceOptions = {}): Promise<FilePolicySource> {
    const snapshot = await readPolicyFile(path, options.maxBytes ?? MAX_POLICY_FILE_BYTES);
    return new FilePolicySource(path, snapshot, options);
  }

  /** Starts polling the file for changes (the poller does not keep the process alive). */
  watch(events: FilePolicyEvents = {}): void {
    this.events = events;
    if (this.listener) return;
    this.listener = (curr, prev) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
      if (curr.nlink === 0 && curr.size === 0) return; // removed: keep the last good policy
      void this.reload();
    };
    fs.watchFile(this.path, { interval: this.options.intervalMs ?? 500, persistent: false }, this.listener);
  }

  /** Re-reads the file now; resolves true when a new version was loaded. */
  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(() => this.reloadOnce());
    return this.reloading;
  }

  close(): void {
    if (this.listener) fs.unwatchFile(this.path, this.listener);
    this.listener = undefined;
  }

  private async reloadOnce(): Promise<boolean> {
    let next: PolicySnapshot;
    try {
      next = await readPolicyFile(this.path, this.options.maxBytes ?? MAX_POLICY_FILE_BYTES);
    } catch (error) {
      this.lastError =
        error instanceof PolicySourceError ? error.message : `cannot load it (${(error as Error).message})`;
      this.events.onRefused?.(this.lastError);
      return false;
    }
    this.lastError = null;
    if (next.version === this.current.version) return false;
    this.current = next;
    this.events.onLoad?.(next);
    return true;
  }
}
