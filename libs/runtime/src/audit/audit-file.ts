import fs from 'node:fs';
import type { RuntimeAuditEvent } from '../../../contracts/src/index.js';
import type { AuditLog } from './pusher.js';

export interface AuditFileOptions {
  path: string;
  /** Size at which the file is rotated (bytes). */
  maxBytes: number;
  /** Rotated files kept (`<path>.1` newest … `<path>.<keep>` oldest); 0 keeps none. */
  keep: number;
  /** Added to every line, so lines from several files can be told apart. */
  sourceId: string;
  sessionId: string;
}

export const AUDIT_FILE_DEFAULTS = { maxBytes: 10 * 1024 * 1024, keep: 5 } as const;

/**
 * The local audit file (`--audit-file`): every recorded event as one JSON line, written synchronously when it is
 * recorded, so a decision leaves a record with or without a control plane and even if the process dies next.
 * Size-bounded: a line that would take the file past `maxBytes` first rotates it (`<path>` → `<path>.1` → … →
 * `<path>.<keep>`, the oldest beyond that is gone). The file is created 0600 and never followed through a symlink.
 * One process per file: two processes rotating the same path would lose lines.
 */
export class AuditFile {
  private fd?: number;
  private size = 0;
  private failed = false;
  /** Opened once: a rotation that could not reopen the file is retried on the next event. */
  private opened = false;
  private closed = false;

  constructor(
    private readonly options: AuditFileOptions,
    private readonly log: AuditLog,
  ) {}

  /** Opens (creating) the file; a path that cannot be opened is a start-up error the caller reports. */
  open(): void {
    this.fd = fs.openSync(
      this.options.path,
      fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0),
      0o600,
    );
    this.size = fs.fstatSync(this.fd).size;
    this.opened = true;
  }

  /** Appends one event; `scope` adds value-free fields such as the gateway's tenant. */
  write(event: RuntimeAuditEvent, scope?: Record<string, string>): void {
    if (!this.opened || this.closed) return;
    const line =
      JSON.stringify({
        ...event,
        ...scope,
        source_id: this.options.sourceId,
        session_id: this.options.sessionId,
      }) + '\n';
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + bytes > this.options.maxBytes) this.rotate();
      fs.writeSync(this.fd!, line);
      this.size += bytes;
      if (this.failed) {
        this.failed = false;
        this.log.info('writing the audit file again');
      }
    } catch (error) {
      if (!this.failed) {
        this.failed = true;
        this.log.error(`cannot write the audit file: ${(error as Error).message}`);
      }
    }
  }

  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = undefined;
    const { path, keep } = this.options;
    if (keep === 0) fs.rmSync(path, { force: true });
    else {
      for (let n = keep - 1; n >= 1; n--) renameIfThere(`${path}.${n}`, `${path}.${n + 1}`);
      fs.renameSync(path, `${path}.1`);
    }
    this.open();
  }

  close(): void {
    this.closed = true;
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The `--audit-file` flags as given (strings), with their environment fallbacks already applied. */
export interface AuditFileFlags {
  file?: string;
  maxSize?: string;
  keep?: string;
}

/**
 * Checks the `--audit-file`, `--audit-file-max-size` and `--audit-file-keep` flags (shared by the proxy and the
 * gateway); throws an Error naming the flag. Undefined when no file is asked for.
 */
export function auditFileConfig(
  flags: AuditFileFlags,
): Omit<AuditFileOptions, 'sourceId' | 'sessionId'> | undefined {
  if (flags.file === undefined || flags.file === '') {
    if (flags.maxSize !== undefined || flags.keep !== undefined)
      throw new Error('--audit-file-max-size and --audit-file-keep need --audit-file');
    return undefined;
  }
  const maxBytes = flags.maxSize === undefined ? AUDIT_FILE_DEFAULTS.maxBytes : parseSize(flags.maxSize);
  if (maxBytes === undefined || maxBytes < 4096 || maxBytes > 1024 ** 3)
    throw new Error('--audit-file-max-size must be a size between 4KiB and 1GiB, e.g. 10MiB');
  const keep = flags.keep === undefined ? AUDIT_FILE_DEFAULTS.keep : Number(flags.keep);
  if (flags.keep !== undefined && !/^\d{1,3}$/.test(flags.keep.trim()))
    throw new Error('--audit-file-keep must be 0-100');
  if (!(keep >= 0 && keep <= 100)) throw new Error('--audit-file-keep must be 0-100');
  return { path: flags.file, maxBytes, keep };
}

/** `10MiB`, `512KiB`, `1GB`, `4096`: a size in bytes (binary units; KB/MB/GB read as KiB/MiB/GiB). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').toLowerCase().replace('i', '');
  const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit]!;
  const value = Number(m[1]) * scale;
  return Number.isSafeInteger(value) ? value : undefined;
}
