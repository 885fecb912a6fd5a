import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  AUDIT_LIMITS,
  type AuditIngestResult,
  type RuntimeAuditEvent,
} from '../../../../libs/contracts/src/index.js';
import type { ControlPlaneLink } from '../control-plane/control-plane-link.js';

export type GatewayAuditEvent = Omit<RuntimeAuditEvent, 'event_id' | 'timestamp'>;

/**
 * Audit delivery for one tenant, through its own control-plane link (the control plane files each batch under
 * the pushing key's tenant). Events are queued in memory and pushed in batches of up to 1,000 every flush
 * interval. While the control plane is unreachable the queue keeps growing up to its bound, then drops the
 * oldest events (counted and logged); delivery resumes with backoff. Every event carries its own id, so a
 * batch re-sent after a lost answer is recorded once.
 */
export class AuditSink {
  private queue: RuntimeAuditEvent[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private backoffMs = 0;
  private nextAttemptAt = 0;
  /** Events whose ids the control plane already held with other content: an alarm, never silently dropped. */
  conflicts = 0;
  dropped = 0;
  delivered = 0;
  private readonly prefix = `gw-${randomUUID().slice(0, 8)}`;

  constructor(
    readonly tenant: string,
    private readonly link: ControlPlaneLink | undefined,
    private readonly options: { sourceId: string; sessionId: string; maxEvents: number; flushMs: number },
    private readonly logger: Logger,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  start(): void {
    if (!this.link) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  record(event: GatewayAuditEvent): void {
    if (!this.link) return; // no control plane: the JSON log line is the record
    this.queue.push({
      ...clip(event),
      event_id: randomUUID(), // unguessable: nobody can pre-empt or collide with the gateway's ids
      timestamp: new Date().toISOString(),
    });
    if (this.queue.length > this.options.maxEvents) {
      const over = this.queue.length - this.options.maxEvents;
      this.queue.splice(0, over);
      this.dropped += over;
      this.logger.warn(
        { tenant: this.tenant, dropped: this.dropped },
        'audit buffer full: oldest events dropped',
      );
    }
  }

  /** Pushes what is queued, one batch at a time; resolves when the queue is empty or a push failed. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.link || !this.queue.length || Date.now() < this.nextAttemptAt) return Promise.resolve();
    this.flushing = this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, AUDIT_LIMITS.eventsPerBatch);
      let result: AuditIngestResult | undefined;
      try {
        result = await this.link!.pushAudit(
          { source_id: this.options.sourceId, session_id: this.options.sessionId, events: batch },
          `${this.prefix}-${batch[0].event_id}-${batch.length}`,
        );
      } catch (error) {
        const kind = (error as { kind?: string }).kind;
        if (kind === 'rejected') {
          // A 400 will never succeed: drop the batch rather than block the tenant's audit forever.
          this.queue.splice(0, batch.length);
          this.dropped += batch.length;
          this.logger.error(
            { tenant: this.tenant, err: error },
            'audit batch refused by the control plane; dropped',
          );
          continue;
        }
        this.backoffMs = Math.min(30_000, Math.max(1_000, this.backoffMs * 2));
        this.nextAttemptAt = Date.now() + this.backoffMs;
        this.logger.warn(
          {
            tenant: this.tenant,
            pending: this.queue.length,
            retry_in_ms: this.backoffMs,
            error: (error as Error).message,
          },
          'audit push failed; events kept in memory',
        );
        return;
      }
      this.queue.splice(0, batch.length);
      this.delivered += batch.length;
      this.backoffMs = 0;
      const conflicts = result?.conflict_event_ids ?? [];
      if (conflicts.length) {
        this.conflicts += conflicts.length;
        this.logger.error(
          { tenant: this.tenant, conflict_event_ids: conflicts.slice(0, 20), conflicts: this.conflicts },
          'ALARM: the control plane holds different events under our audit event ids (forged or replayed audit)',
        );
      }
    }
  }

  /** Last delivery attempt at shutdown, bounded in time. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.nextAttemptAt = 0;
    await Promise.race([this.flush(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Keeps events inside the ingest contract's bounds (names 200, reason 1000, ids 128). */
function clip(event: GatewayAuditEvent): GatewayAuditEvent {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      out[key] = value;
      continue;
    }
    const plain = value.replace(key === 'reason' ? CONTROL_BUT_NEWLINE : CONTROL, ' ');
    const max =
      key === 'reason'
        ? AUDIT_LIMITS.reasonLength
        : key === 'request_id'
          ? AUDIT_LIMITS.idLength
          : AUDIT_LIMITS.nameLength;
    out[key] = plain.length > max ? plain.slice(0, max) : plain;
  }
  return out as GatewayAuditEvent;
}
