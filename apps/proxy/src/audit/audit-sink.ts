import type { RuntimeAuditEvent } from '../../../../libs/contracts/src/index.js';
import {
  ControlPlaneError,
  type ControlPlaneClient,
} from '../../../../libs/control-plane-client/src/index.js';
import type { ProxyLogger } from '../logger.js';
import type { AuditSpool, SpoolBatch } from './spool.js';

const BATCH_EVENTS = 500;
const BATCH_BYTES = 256 * 1024;

export interface AuditSinkOptions {
  sourceId: string;
  sessionId: string;
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
 * Where runtime events go. Every event is written to the `--log` file at once; with a control plane, events are
 * gathered for `flushMs`, appended to the disk spool (fsynced), then pushed in batches to `POST /v1/proxy/audit`.
 * A failed push leaves them in the spool and retries with exponential backoff; the spool survives restarts, and
 * the next proxy on this cache adopts what a dead one left. Delivery is at-least-once from the proxy and
 * exactly-once in the ledger, which ignores an `event_id` it already holds.
 */
export class AuditSink {
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
    private readonly logger: ProxyLogger,
    private readonly options: AuditSinkOptions,
    private readonly client?: ControlPlaneClient,
    private readonly spool?: AuditSpool,
  ) {}

  async start(): Promise<void> {
    if (!this.spool) return;
    await this.spool.open();
    const adopted = await this.spool.adoptOrphans();
    if (adopted > 0) this.logger.info(`delivering audit events left by ${adopted} earlier proxy run(s)`);
    this.kick();
  }

  record(event: RuntimeAuditEvent): void {
    this.stats.recorded++;
    this.logger.audit(event);
    if (!this.spool || this.closed) return;
    this.queue.push(event);
    if (this.queue.length >= BATCH_EVENTS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Spools what is queued, then tries to deliver (unless waiting out a backoff). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const previous = this.flushing ?? Promise.resolve();
    const run = previous.then(async () => {
      const events = this.queue;
      this.queue = [];
      if (!this.spool || events.length === 0) return;
      const kept = await this.spool.append(events).catch((error: unknown) => {
        this.logger.error(`cannot write the audit spool: ${(error as Error).message}`);
        return 0;
      });
      if (kept < events.length) {
        this.stats.dropped += events.length - kept;
        this.logger.error(`audit spool full: dropped ${events.length - kept} event(s) (oldest kept)`);
      }
      if (!this.retryTimer) this.kick();
    });
    this.flushing = run;
    return run;
  }

  /** Starts a delivery pass if none is running. */
  kick(): Promise<void> {
    if (!this.client || !this.spool) return Promise.resolve();
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async pump(): Promise<void> {
    const spool = this.spool!;
    for (;;) {
      const batch = await spool.nextBatch(BATCH_EVENTS, BATCH_BYTES);
      if (!batch) return;
      const ok = await this.deliver(batch);
      if (!ok) {
        this.scheduleRetry();
        return;
      }
      this.backoffMs = 0;
      if (this.reportedOutage) {
        this.logger.info('audit delivery to the control plane resumed');
        this.reportedOutage = false;
      }
    }
  }

  private async deliver(batch: SpoolBatch): Promise<boolean> {
    try {
      await this.push(batch.file.session, batch.events);
      await this.spool!.ack(batch);
      return true;
    } catch (error) {
      if (error instanceof ControlPlaneError && error.kind === 'rejected' && batch.events.length > 0) {
        // One malformed event must not wedge the spool: resend one by one and drop only what is refused.
        for (const event of batch.events) {
          try {
            await this.push(batch.file.session, [event]);
          } catch (single) {
            if (!(single instanceof ControlPlaneError) || single.kind !== 'rejected')
              return this.outage(single);
            this.stats.rejected++;
            this.logger.error(
              `the control plane refused audit event ${event.event_id} (${event.type}): ${single.message}`,
            );
          }
        }
        await this.spool!.ack(batch);
        return true;
      }
      return this.outage(error);
    }
  }

  private async push(session: string, events: RuntimeAuditEvent[]): Promise<void> {
    const result = await this.client!.pushAudit(
      { source_id: this.options.sourceId, session_id: session, events },
      {
        idempotencyKey: `audit-${events[0].event_id}-${events.length}`,
        maxAttempts: 1,
        requestTimeoutMs: 10_000,
      },
    );
    this.stats.delivered += result.body.accepted;
    this.stats.duplicates += result.body.duplicates;
    const conflicts = result.body.conflict_event_ids ?? [];
    if (conflicts.length) {
      // Another writer already holds these ids with other content: someone forges or replays our events.
      this.stats.conflicts += conflicts.length;
      this.logger.error(
        `ALARM: the control plane holds different events under ${conflicts.length} of our audit event id(s) (${conflicts.slice(0, 5).join(', ')}): forged or replayed audit`,
      );
    }
  }

  private outage(error: unknown): false {
    if (!this.reportedOutage) {
      this.reportedOutage = true;
      this.logger.warn(
        `cannot deliver audit events (${(error as Error).message}); they stay spooled and are retried`,
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

  /** Spools what is queued and tries to deliver for at most `deadlineMs`; what is left stays spooled. */
  async close(deadlineMs: number): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.client && this.spool && this.spool.pendingBytes > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.pumping ?? this.kick(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
      if (this.spool.pendingBytes > 0)
        this.logger.warn('some audit events are still spooled; the next proxy run will deliver them');
    }
    // A push still in flight past the deadline is abandoned: the spool is closed after it (file operations are
    // serialised), and what it carried is delivered again by the next run if it did not land.
    await this.spool?.close();
  }
}
