import type {
  AuditIngestRequest,
  AuditIngestResult,
  RuntimeAuditEvent,
} from '../../../contracts/src/index.js';
import { ControlPlaneError, type ControlPlaneClient } from '../../../control-plane-client/src/index.js';
import type { AuditBatch, AuditBuffer } from './buffer.js';

const BATCH_EVENTS = 500;
const BATCH_BYTES = 256 * 1024;

/**
 * One push of a batch (`POST /v1/proxy/audit`); throws a {@link ControlPlaneError} when it did not land. `json`,
 * when given, is the request's JSON text, exactly `JSON.stringify(request)`: the body to send as it is.
 */
export type AuditTransport = (
  request: AuditIngestRequest,
  idempotencyKey: string,
  json?: string,
) => Promise<AuditIngestResult>;

/** The pusher's transport through a control-plane client: one attempt per push, the pusher does the backoff. */
export function clientTransport(client: ControlPlaneClient): AuditTransport {
  return async (request, idempotencyKey, json) =>
    (await client.pushAudit(request, { idempotencyKey, maxAttempts: 1, requestTimeoutMs: 10_000, json }))
      .body;
}

/**
 * `JSON.stringify({ source_id, session_id, events })`, byte for byte, from each event's own JSON text: the text
 * of an array of objects is its elements' texts joined by commas, so no event is serialised again.
 */
export function auditRequestJson(sourceId: string, session: string, texts: readonly string[]): string {
  return `{"source_id":${JSON.stringify(sourceId)},"session_id":${JSON.stringify(session)},"events":[${texts.join(',')}]}`;
}

/** Where the pusher reports: plain messages with a few value-free fields. */
export interface AuditLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface AuditPusherOptions {
  sourceId: string;
  /** Gathering time before queued events are handed to the buffer and pushed. */
  flushMs: number;
  /** Longest wait between delivery attempts while the control plane is unreachable. */
  maxBackoffMs: number;
}

export interface AuditStats {
  recorded: number;
  delivered: number;
  duplicates: number;
  dropped: number;
  rejected: number;
  /** Events whose ids the control plane already held with other content (an alarm). */
  conflicts: number;
}

/**
 * The one audit pusher of the proxy and the gateway. Recorded events are gathered for `flushMs`, appended to the
 * buffer (memory, or the proxy's fsynced disk spool), then pushed in batches to `POST /v1/proxy/audit`. A failed
 * push leaves them in the buffer and retries with exponential backoff; a batch the control plane refuses (400) is
 * resent one event at a time and only what is refused is dropped, so one malformed event never wedges the rest.
 * Delivery is at-least-once from here and exactly-once in the ledger, which recognises an `event_id` it holds.
 * Without a transport the pusher only counts (the local audit file and the logs are the record).
 */
export class AuditPusher {
  private queue: RuntimeAuditEvent[] = [];
  private flushTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private pumping?: Promise<void>;
  private backoffMs = 0;
  private closed = false;
  private reportedOutage = false;
  readonly stats: AuditStats = {
    recorded: 0,
    delivered: 0,
    duplicates: 0,
    dropped: 0,
    rejected: 0,
    conflicts: 0,
  };

  constructor(
    private readonly buffer: AuditBuffer,
    private readonly transport: AuditTransport | undefined,
    private readonly log: AuditLog,
    private readonly options: AuditPusherOptions,
  ) {}

  /** Events recorded but not yet delivered. */
  get pending(): number {
    return this.queue.length + this.buffer.pending;
  }

  async start(): Promise<void> {
    if (!this.transport) return;
    const adopted = await this.buffer.open();
    if (adopted > 0) this.log.info(`delivering audit events left by ${adopted} earlier proxy run(s)`);
    void this.kick();
  }

  /** An event the app did not build because nothing would take it (no transport, file or log): counted only. */
  countUnbuilt(): void {
    this.stats.recorded++;
  }

  record(event: RuntimeAuditEvent): void {
    this.stats.recorded++;
    if (!this.transport || this.closed) return;
    this.queue.push(event);
    if (this.queue.length >= BATCH_EVENTS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Buffers what is queued, then delivers (unless waiting out a backoff); resolves when that pass is over. */
  async flush(): Promise<void> {
    await this.buffered();
    if (!this.retryTimer) await this.kick();
  }

  /** Hands what is queued to the buffer (serialised: appends land in recording order). */
  private buffered(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const previous = this.flushing ?? Promise.resolve();
    const run = previous.then(async () => {
      const events = this.queue;
      this.queue = [];
      if (!this.transport || events.length === 0) return;
      const dropped = await this.buffer.append(events).catch((error: unknown) => {
        this.log.error(`cannot buffer audit events: ${(error as Error).message}`);
        return events.length;
      });
      if (dropped > 0) {
        this.stats.dropped += dropped;
        this.log.error(
          `audit buffer full: dropped ${dropped} event(s) (${this.buffer.drops === 'newest' ? 'oldest kept' : 'oldest dropped'})`,
          { dropped: this.stats.dropped },
        );
      }
    });
    this.flushing = run;
    return run;
  }

  /** Starts a delivery pass if none is running. */
  kick(): Promise<void> {
    if (!this.transport) return Promise.resolve();
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async pump(): Promise<void> {
    for (;;) {
      const batch = await this.buffer.next(BATCH_EVENTS, BATCH_BYTES);
      if (!batch) return;
      if (!(await this.deliver(batch))) {
        this.scheduleRetry();
        return;
      }
      this.backoffMs = 0;
      if (this.reportedOutage) {
        this.log.info('audit delivery to the control plane resumed');
        this.reportedOutage = false;
      }
    }
  }

  private async deliver(batch: AuditBatch): Promise<boolean> {
    try {
      await this.push(batch.session, batch.events, batch.texts);
      await this.buffer.ack(batch);
      return true;
    } catch (error) {
      if (error instanceof ControlPlaneError && error.kind === 'rejected' && batch.events.length > 0) {
        for (const [index, event] of batch.events.entries()) {
          try {
            await this.push(batch.session, [event], batch.texts && [batch.texts[index]]);
          } catch (single) {
            if (!(single instanceof ControlPlaneError) || single.kind !== 'rejected')
              return this.outage(single);
            this.stats.rejected++;
            this.log.error(
              `the control plane refused audit event ${event.event_id} (${event.type}): ${single.message}`,
            );
          }
        }
        await this.buffer.ack(batch);
        return true;
      }
      return this.outage(error);
    }
  }

  private async push(
    session: string,
    events: RuntimeAuditEvent[],
    texts: readonly string[] | undefined,
  ): Promise<void> {
    const sourceId = this.options.sourceId;
    const result = await this.transport!(
      { source_id: sourceId, session_id: session, events },
      `audit-${events[0].event_id}-${events.length}`,
      texts && auditRequestJson(sourceId, session, texts),
    );
    this.stats.delivered += result.accepted;
    this.stats.duplicates += result.duplicates;
    const conflicts = result.conflict_event_ids ?? [];
    if (conflicts.length) {
      // Another writer already holds these ids with other content: someone forges or replays our events.
      this.stats.conflicts += conflicts.length;
      this.log.error(
        `ALARM: the control plane holds different events under ${conflicts.length} of our audit event id(s) (${conflicts.slice(0, 5).join(', ')}): forged or replayed audit`,
        { conflicts: this.stats.conflicts },
      );
    }
  }

  private outage(error: unknown): false {
    if (!this.reportedOutage) {
      this.reportedOutage = true;
      this.log.warn(
        `cannot deliver audit events (${(error as Error).message}); they stay ${this.buffer.keeps} and are retried`,
        { pending: this.pending },
      );
    }
    return false;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.backoffMs = Math.min(this.options.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 1000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.kick();
    }, this.backoffMs);
    this.retryTimer.unref();
  }

  /** Buffers what is queued and tries to deliver for at most `deadlineMs`; what is left stays buffered. */
  async close(deadlineMs: number): Promise<void> {
    if (this.closed) return;
    await this.buffered();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.transport && this.buffer.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.pumping ?? this.kick(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
      if (this.buffer.pending > 0)
        this.log.warn(
          this.buffer.drops === 'newest'
            ? 'some audit events are still spooled; the next run will deliver them'
            : `${this.buffer.pending} audit event(s) could not be delivered before shutdown`,
        );
    }
    // A push still in flight past the deadline is abandoned: a disk buffer is closed after it (its file operations
    // are serialised), and what it carried is delivered again by the next run if it did not land.
    await this.buffer.close();
  }
}
