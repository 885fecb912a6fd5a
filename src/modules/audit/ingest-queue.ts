import { Injectable } from '@nestjs/common';
import { AuditWriter, type AppendResult, type PreparedEvent } from './audit-writer.js';

/** At most this many events go into one group-commit transaction (five full batches). */
const MAX_EVENTS_PER_COMMIT = 5000;

interface Job {
  events: PreparedEvent[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit for pushed batches, per tenant and process. Writers of one tenant are serialised by the chain-head
 * lock anyway; without this, N concurrent pushes for one busy tenant would each hold a pool connection while
 * waiting for that lock, and ten of them would starve every other request of this replica. Instead one
 * transaction at a time runs per tenant and takes every batch that queued up meanwhile: one statement (lock,
 * duplicate check, hashes, insert, head move) and its commit; see {@link AuditWriter}.
 *
 * Each caller still gets its own result and the same guarantee: its events are durable when its promise
 * resolves. A database failure fails every batch of that commit (and nothing of theirs is written); validation
 * happened before, per batch, so one caller's bad input never reaches here.
 */
@Injectable()
export class IngestQueue {
  private readonly queues = new Map<string, Job[]>();

  constructor(private readonly writer: AuditWriter) {}

  append(tenantId: string, events: PreparedEvent[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      const queue = this.queues.get(tenantId);
      if (queue) {
        queue.push({ events, resolve, reject });
        return;
      }
      this.queues.set(tenantId, [{ events, resolve, reject }]);
      void this.drain(tenantId);
    });
  }

  /** Commits the tenant's queued batches, a group at a time, until none is left; then the queue is gone. */
  private async drain(tenantId: string): Promise<void> {
    const queue = this.queues.get(tenantId)!;
    while (queue.length) {
      const group: Job[] = [];
      let size = 0;
      while (queue.length && (group.length === 0 || size + queue[0].events.length <= MAX_EVENTS_PER_COMMIT)) {
        const job = queue.shift()!;
        group.push(job);
        size += job.events.length;
      }
      try {
        const results = await this.writer.appendGroups(
          tenantId,
          group.map((job) => job.events),
        );
        group.forEach((job, i) => job.resolve(results[i]));
      } catch (error) {
        for (const job of group) job.reject(error);
      }
    }
    this.queues.delete(tenantId);
  }
}
