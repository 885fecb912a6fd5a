import { Injectable } from '@nestjs/common';
import { GroupCommit } from '../../core/database/group-commit.js';
import { AuditWriter, type AppendResult, type PreparedEvent } from './audit-writer.js';

/** At most this many events go into one group-commit transaction (five full batches). */
const MAX_EVENTS_PER_COMMIT = 5000;

/**
 * Group commit for pushed batches, per tenant and process ({@link GroupCommit}). Writers of one tenant are
 * serialised by the chain-head lock anyway; without this, N concurrent pushes for one busy tenant would each hold
 * a pool connection while waiting for that lock, and ten of them would starve every other request of this
 * replica. Instead one transaction at a time runs per tenant and takes every batch that queued up meanwhile: one
 * statement (lock, duplicate check, hashes, insert, head move) and its commit; see {@link AuditWriter}.
 *
 * Each caller still gets its own result and the same guarantee: its events are durable when its promise
 * resolves. A database failure fails every batch of that commit (and nothing of theirs is written); validation
 * happened before, per batch, so one caller's bad input never reaches here.
 */
@Injectable()
export class IngestQueue {
  private readonly commits: GroupCommit<PreparedEvent[], AppendResult>;

  constructor(writer: AuditWriter) {
    this.commits = new GroupCommit(
      async (tenantId, groups) =>
        (await writer.appendGroups(tenantId, groups)).map((value) => ({ ok: true, value })),
      { max: MAX_EVENTS_PER_COMMIT, size: (events) => events.length },
    );
  }

  append(tenantId: string, events: PreparedEvent[]): Promise<AppendResult> {
    return this.commits.submit(tenantId, events);
  }
}
