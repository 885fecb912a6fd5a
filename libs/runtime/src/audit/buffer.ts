import type { RuntimeAuditEvent } from '../../../contracts/src/index.js';

/** Events taken from a buffer for one push; acknowledged once the control plane has them. */
export interface AuditBatch {
  /** The session the events were recorded in (a disk spool can hold an earlier run's). */
  readonly session: string;
  readonly events: RuntimeAuditEvent[];
  /**
   * Each event's JSON text (`JSON.stringify(event)`), in order, when the buffer already made it: the push then
   * joins these into the request body instead of serialising every event a second time.
   */
  readonly texts?: readonly string[];
}

/**
 * Where the pusher keeps events until the control plane has them: in memory (the gateway) or in a durable disk
 * spool (the proxy, {@link AuditSpool}). A buffer is bounded; past its bound it drops events and says how many.
 */
export interface AuditBuffer<B extends AuditBatch = AuditBatch> {
  /** Which events a full buffer gives up: the newest (a spool keeps the oldest evidence) or the oldest. */
  readonly drops: 'newest' | 'oldest';
  /** How a message says the events are kept: `spooled` (disk) or `kept in memory`. */
  readonly keeps: string;
  /** Opens the buffer; returns how many earlier runs' leftovers it took over (to deliver them first). */
  open(): Promise<number>;
  /** Adds events; returns how many were dropped for the bound. */
  append(events: readonly RuntimeAuditEvent[]): Promise<number>;
  /** The next events to deliver, without removing them. */
  next(maxEvents: number, maxBytes: number): Promise<B | undefined>;
  /** The batch was delivered: remove it. */
  ack(batch: B): Promise<void>;
  /** Greater than zero while anything is undelivered (events or bytes, by buffer). */
  readonly pending: number;
  close(): Promise<void>;
}

interface MemoryBatch extends AuditBatch {
  readonly first: number;
}

/**
 * The in-memory buffer (the gateway's): up to `maxEvents`, then the oldest are dropped. Lost with the process, so
 * a gateway that must keep every decision also writes the local audit file. Each event is serialised once, when a
 * batch first takes it: that text sizes the batch and is what the push sends (and a retry sends again). Only the
 * next batch's events hold a text, so an outage that fills the buffer does not hold each event twice.
 */
export class MemoryAuditBuffer implements AuditBuffer<MemoryBatch> {
  readonly drops = 'oldest' as const;
  readonly keeps = 'kept in memory';
  private events: RuntimeAuditEvent[] = [];
  /** `JSON.stringify` of `events`, index for index, once a batch has taken the event. */
  private texts: (string | undefined)[] = [];
  /** Sequence number of `events[0]`: a batch stays identifiable while older events are dropped under it. */
  private head = 0;

  constructor(
    private readonly session: string,
    private readonly maxEvents: number,
  ) {}

  open(): Promise<number> {
    return Promise.resolve(0);
  }

  append(events: readonly RuntimeAuditEvent[]): Promise<number> {
    for (const event of events) {
      this.events.push(event);
      this.texts.push(undefined);
    }
    const over = Math.max(0, this.events.length - this.maxEvents);
    if (over > 0) {
      this.events.splice(0, over);
      this.texts.splice(0, over);
      this.head += over;
    }
    return Promise.resolve(over);
  }

  next(maxEvents: number, maxBytes: number): Promise<MemoryBatch | undefined> {
    if (this.events.length === 0) return Promise.resolve(undefined);
    let bytes = 0;
    let count = 0;
    const end = Math.min(maxEvents, this.events.length);
    const texts: string[] = [];
    while (count < end) {
      const text = (this.texts[count] ??= JSON.stringify(this.events[count]));
      bytes += text.length + 1;
      if (bytes > maxBytes && count > 0) break;
      texts.push(text);
      count++;
    }
    return Promise.resolve({
      session: this.session,
      events: this.events.slice(0, count),
      texts,
      first: this.head,
    });
  }

  ack(batch: MemoryBatch): Promise<void> {
    const done = Math.max(0, batch.first + batch.events.length - this.head);
    this.events.splice(0, done);
    this.texts.splice(0, done);
    this.head += done;
    return Promise.resolve();
  }

  get pending(): number {
    return this.events.length;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
