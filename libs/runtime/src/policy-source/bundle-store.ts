import fs from 'node:fs/promises';
import path from 'node:path';

/** What a bundle source remembers about the control plane between runs (no secret in it). */
export interface BundleState {
  /** ETag of the cached bundle, for `If-None-Match`. */
  etag?: string;
  tenant_id?: string;
  /** Highest bundle version ever accepted for `tenant_id`: anything lower is a rollback and is refused. */
  min_version?: number;
  fetched_at?: string;
}

export interface CachedBundle {
  /** The signed bundle exactly as the control plane served it. */
  bundle?: string;
  /** `GET /v1/policy/verification-key` as served. */
  keys?: string;
  state: BundleState;
}

/**
 * Where a bundle source keeps the last verified bundle, the verification keys and the rollback floor. Nothing read
 * from a store is trusted: the bundle is verified again before use. Only the floor is a promise: a store that
 * forgets it (memory) lets a restarted process accept an older, validly signed bundle once.
 */
export interface BundleStore {
  /** For messages: a directory, or `memory`. */
  readonly location: string;
  /** Whether the floor survives a restart of the process. */
  readonly persistent: boolean;
  load(): Promise<CachedBundle>;
  saveBundle(text: string): Promise<void>;
  saveKeys(text: string): Promise<void>;
  saveState(state: BundleState): Promise<void>;
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The on-disk cache of one control plane and credential: `bundle.json` (the signed bundle, byte for byte),
 * `keys.json` (the verification keys) and `state.json` (ETag, tenant, rollback floor). Every file is written to a
 * temporary name, fsynced and renamed into place, so a crash leaves the old file or the new one, never half of
 * either. Directory 0700, files 0600.
 */
export class DiskBundleStore implements BundleStore {
  readonly persistent = true;

  constructor(readonly location: string) {}

  async load(): Promise<CachedBundle> {
    const [bundle, keys, state] = await Promise.all([
      this.read('bundle.json'),
      this.read('keys.json'),
      this.read('state.json'),
    ]);
    return { bundle, keys, state: parseState(state) };
  }

  saveBundle(text: string): Promise<void> {
    return this.write('bundle.json', text);
  }

  saveKeys(text: string): Promise<void> {
    return this.write('keys.json', text);
  }

  saveState(state: BundleState): Promise<void> {
    return this.write('state.json', JSON.stringify(state, null, 2) + '\n');
  }

  path(name: 'bundle.json' | 'keys.json' | 'state.json'): string {
    return path.join(this.location, name);
  }

  private async read(name: string): Promise<string | undefined> {
    try {
      const file = path.join(this.location, name);
      const stat = await fs.lstat(file);
      if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
      return await fs.readFile(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  private async write(name: string, text: string): Promise<void> {
    await fs.mkdir(this.location, { recursive: true, mode: 0o700 });
    const target = path.join(this.location, name);
    const temporary = `${target}.${process.pid}.tmp`;
    const handle = await fs.open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
  }
}

/** The process's memory: the floor holds while the process lives and is lost on restart. */
export class MemoryBundleStore implements BundleStore {
  readonly location = 'memory';
  readonly persistent = false;
  private cached: CachedBundle = { state: {} };

  async load(): Promise<CachedBundle> {
    return { ...this.cached, state: { ...this.cached.state } };
  }

  async saveBundle(text: string): Promise<void> {
    this.cached.bundle = text;
  }

  async saveKeys(text: string): Promise<void> {
    this.cached.keys = text;
  }

  async saveState(state: BundleState): Promise<void> {
    this.cached.state = { ...state };
  }
}

function parseState(text: string | undefined): BundleState {
  let parsed: BundleState = {};
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as BundleState;
  } catch {
    // an unreadable state file only loses the ETag and the rollback floor of this cache
  }
  if (parsed.min_version !== undefined && !Number.isSafeInteger(parsed.min_version))
    delete parsed.min_version;
  return parsed;
}
