import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeAuditEvent } from '../../../contracts/src/index.js';
import type { AuditBatch, AuditBuffer } from './buffer.js';

/** One spool file: `spool-<pid>-<session>.ndjson`, with its delivered offset in `….acked`. */
export interface SpoolFile {
  readonly path: string;
  readonly session: string;
  /** Ours (this process appends to it) or adopted from a proxy that died. */
  readonly own: boolean;
}

export interface SpoolBatch extends AuditBatch {
  readonly file: SpoolFile;
  /** Offset just past the last line read: acknowledge it once the control plane has the events. */
  readonly end: number;
}

const NAME = /^spool-(\d+)-([A-Za-z0-9._:-]{1,128})\.ndjson$/;
const READ_CHUNK = 256 * 1024;

/**
 * A durable, bounded disk queue of audit events for one control plane and credential. Each proxy appends to its
 * own file (pid and session in the name), one JSON line per event, and fsyncs every batch before it counts the
 * events as spooled. What was delivered is an offset in a side file, replaced atomically; a crash between a
 * push and its acknowledgement only means the events are sent again, which the control plane recognises by
 * `event_id` (a duplicate, never a second entry). Files of proxies whose pid is gone are adopted by renaming them
 * (atomic: two proxies never adopt the same file) and delivered first. The undelivered part of our file is
 * bounded by `maxBytes`: beyond it new events are dropped and counted, the oldest evidence is kept.
 */
export class AuditSpool implements AuditBuffer<SpoolBatch> {
  readonly drops = 'newest' as const;
  readonly keeps = 'spooled';
  private handle?: fs.FileHandle;
  private ownFile!: SpoolFile;
  private ownSize = 0;
  private ownAcked = 0;
  private adopted: SpoolFile[] = [];
  /** File mutations run one at a time (an append must never land between "all delivered" and the truncate). */
  private chain: Promise<unknown> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly session: string,
    private readonly maxBytes: number,
    private readonly isAlive: (pid: number) => boolean = processAlive,
  ) {}

  async open(): Promise<number> {
    await this.openOwn();
    return this.adoptOrphans();
  }

  private async openOwn(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.ownFile = {
      path: path.join(this.dir, `spool-${process.pid}-${this.session}.ndjson`),
      session: this.session,
      own: true,
    };
    this.handle = await fs.open(this.ownFile.path, 'a', 0o600);
    this.ownSize = (await this.handle.stat()).size;
    this.ownAcked = await this.readAck(this.ownFile);
  }

  /** Adopts the spool files of proxies that are no longer running. Returns how many. */
  private async adoptOrphans(): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return 0;
    }
    let count = 0;
    for (const name of names) {
      const match = NAME.exec(name);
      if (!match || Number(match[1]) === process.pid || this.isAlive(Number(match[1]))) continue;
      const target = path.join(this.dir, `spool-${process.pid}-${match[2]}.ndjson`);
      if (target === this.ownFile.path) continue;
      try {
        await fs.rename(path.join(this.dir, name), target);
      } catch {
        continue; // another proxy adopted it first
      }
      await fs.rename(path.join(this.dir, `${name}.acked`), `${target}.acked`).catch(() => undefined);
      this.adopted.push({ path: target, session: match[2], own: false });
      count++;
    }
    return count;
  }

  /** Appends events and fsyncs them; returns how many were dropped (over the bound). */
  async append(events: readonly RuntimeAuditEvent[]): Promise<number> {
    const kept = await this.exclusive(() => this.appendNow(events));
    return events.length - kept;
  }

  private async appendNow(events: readonly RuntimeAuditEvent[]): Promise<number> {
    if (!this.handle || events.length === 0) return 0;
    const lines: string[] = [];
    let bytes = 0;
    for (const event of events) {
      const line = JSON.stringify(event) + '\n';
      if (this.ownSize + bytes + line.length - this.ownAcked > this.maxBytes) {
        this.dropped++;
        continue;
      }
      lines.push(line);
      bytes += Buffer.byteLength(line);
    }
    if (lines.length === 0) return 0;
    await this.handle.write(lines.join(''));
    await this.handle.sync();
    this.ownSize += bytes;
    return lines.length;
  }

  /** Undelivered bytes across our file and adopted ones (adopted counted as whole files). */
  get pending(): number {
    return this.ownSize - this.ownAcked + (this.adopted.length > 0 ? 1 : 0);
  }

  /** The next events to deliver: adopted files first (oldest evidence first), then ours. */
  next(maxEvents: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    return this.exclusive(() => this.nextBatchNow(maxEvents, maxBytes));
  }

  private async nextBatchNow(maxEvents: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    while (this.adopted.length > 0) {
      const file = this.adopted[0];
      const batch = await this.read(file, await this.readAck(file), maxEvents, maxBytes);
      if (batch) return batch;
      await this.retire(file);
    }
    if (this.ownSize <= this.ownAcked) return undefined;
    return this.read(this.ownFile, this.ownAcked, maxEvents, maxBytes);
  }

  /** Records that everything before `batch.end` was delivered. */
  ack(batch: SpoolBatch): Promise<void> {
    return this.exclusive(() => this.ackNow(batch));
  }

  private async ackNow(batch: SpoolBatch): Promise<void> {
    if (batch.file.own) {
      this.ownAcked = batch.end;
      if (this.ownAcked >= this.ownSize && this.handle) {
        // Everything delivered: start the file over, so a long session does not grow it forever.
        await this.handle.truncate(0);
        this.ownSize = 0;
        this.ownAcked = 0;
      }
      await this.writeAck(this.ownFile, this.ownAcked);
      return;
    }
    await this.writeAck(batch.file, batch.end);
  }

  close(): Promise<void> {
    return this.exclusive(() => this.closeNow());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async closeNow(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
    if (this.ownFile && this.ownSize === 0) {
      await fs.rm(this.ownFile.path, { force: true });
      await fs.rm(`${this.ownFile.path}.acked`, { force: true });
    }
  }

  private async read(
    file: SpoolFile,
    offset: number,
    maxEvents: number,
    maxBytes: number,
  ): Promise<SpoolBatch | undefined> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file.path, 'r');
    } catch {
      return undefined;
    }
    try {
      const buffer = Buffer.alloc(Math.max(READ_CHUNK, maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) return undefined;
      const events: RuntimeAuditEvent[] = [];
      let at = 0;
      let consumed = 0;
      while (events.length < maxEvents) {
        const newline = buffer.indexOf(0x0a, at);
        if (newline < 0 || newline >= bytesRead) break;
        if (newline + 1 > maxBytes && events.length > 0) break;
        const line = buffer.subarray(at, newline).toString('utf8');
        at = newline + 1;
        consumed = at;
        try {
          events.push(JSON.parse(line) as RuntimeAuditEvent);
        } catch {
          // a torn or corrupted line: skip it, keep the rest
        }
      }
      // Nothing complete left. In an adopted file that can be a line its dead owner never finished: it was never
      // fsynced as spooled, so the file is retired with it.
      if (consumed === 0) return undefined;
      return { file, session: file.session, events, end: offset + consumed };
    } finally {
      await handle.close();
    }
  }

  private async retire(file: SpoolFile): Promise<void> {
    this.adopted.shift();
    await fs.rm(file.path, { force: true });
    await fs.rm(`${file.path}.acked`, { force: true });
  }

  private async readAck(file: SpoolFile): Promise<number> {
    try {
      const value = Number((await fs.readFile(`${file.path}.acked`, 'utf8')).trim());
      return Number.isSafeInteger(value) && value >= 0 ? value : 0;
    } catch {
      return 0;
    }
  }

  private async writeAck(file: SpoolFile, offset: number): Promise<void> {
    const target = `${file.path}.acked`;
    const temporary = `${target}.${process.pid}.tmp`;
    const handle = await fs.open(temporary, 'w', 0o600);
    try {
      await handle.write(String(offset));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
