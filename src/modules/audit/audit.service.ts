import { Injectable, Logger } from '@nestjs/common';
import type { AuditIngestResult, StoredAuditEvent } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { DomainError } from '../../core/errors/domain-error.js';
import type { Tx } from '../../core/database/transactions.js';
import { controlPlaneEvent, runtimeEvent, type AuditAction } from './audit-events.js';
import { AuditWriter, prepareEvent } from './audit-writer.js';
import type { Alongside } from './audit.repository.js';
import type { IngestAuditDto } from './dto/ingest.dto.js';
import { IngestQueue } from './ingest-queue.js';

export type { AuditAction } from './audit-events.js';
export type { Alongside } from './audit.repository.js';

export interface RecordedAudit {
  event_id: string;
  seq: number;
  hash: string;
}

/**
 * The audit ledger's write API for every module.
 *
 * `record` is how a control-plane action lands in the tenant's chain. Pass the transaction of the action so the
 * two commit together or not at all, and call it as the last write of that transaction: it takes the tenant's
 * chain-head lock, which every audit writer of that tenant (proxies, gateways, other replicas) then waits for
 * until you commit.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('AuditIngest');

  constructor(
    private readonly writer: AuditWriter,
    private readonly queue: IngestQueue,
  ) {}

  /** Appends a control-plane action to `principal.tenantId`'s chain; the actor is the principal. */
  async record(principal: Principal, action: AuditAction, tx?: Tx): Promise<RecordedAudit> {
    const [recorded] = await this.recordAll(principal, [action], tx);
    return recorded;
  }

  /**
   * Appends several actions of one unit of work, in order, in one append to the chain: for a write path that has
   * more than one thing to record (an enrolling fleet sync) and should hold the head only at its end. With `tx`,
   * joins it (the head is held until it commits); without, one statement that commits by itself.
   */
  async recordAll(principal: Principal, actions: AuditAction[], tx?: Tx): Promise<RecordedAudit[]> {
    const now = new Date();
    const events = actions.map((action) => controlPlaneEvent(principal, action, now));
    const { written } = await this.writer.append(principal.tenantId, events, tx);
    return events.map((event, i) => ({
      event_id: event.event_id,
      seq: written[i].seq,
      hash: written[i].hash,
    }));
  }

  /**
   * Appends the actions of several principals of one tenant in one append, in order: for a group commit that
   * writes several requests' units of work in one transaction (the fleet's concurrent syncs), which then holds
   * the tenant's head once, at its end, rather than once per request. Joins `tx`.
   */
  async recordEach(
    tenantId: string,
    records: Array<{ principal: Principal; actions: AuditAction[] }>,
    tx: Tx,
  ): Promise<void> {
    await this.writer.append(tenantId, this.eventsOf(tenantId, records), tx);
  }

  /**
   * {@link recordEach} with a write of the caller's in the same statement, run before the chain head is locked
   * (the fleet's agent count: both rows are held to commit, so one round trip fewer while they are); returns
   * what that write returned. The caller may still roll back on it (the entries go with the transaction).
   */
  async recordEachAlongside<T>(
    tenantId: string,
    records: Array<{ principal: Principal; actions: AuditAction[] }>,
    tx: Tx,
    alongside: Alongside<T>,
  ): Promise<T> {
    const events = this.eventsOf(tenantId, records);
    return (await this.writer.appendAlongside(tenantId, events, tx, alongside)).alongside;
  }

  private eventsOf(
    tenantId: string,
    records: Array<{ principal: Principal; actions: AuditAction[] }>,
  ): StoredAuditEvent[] {
    const now = new Date();
    return records.flatMap(({ principal, actions }) => {
      if (principal.tenantId !== tenantId)
        throw new Error('audit: a record of another tenant in this append');
      return actions.map((action) => controlPlaneEvent(principal, action, now));
    });
  }

  /**
   * The one write into a chain other than the principal's: `tenant.created` opens the new tenant's chain,
   * with the creator (and the creator's own tenant) as actor.
   */
  async recordTenantCreated(
    principal: Principal,
    tenant: { id: string; name: string },
    tx: Tx,
  ): Promise<RecordedAudit> {
    const event = controlPlaneEvent(
      principal,
      {
        type: 'tenant.created',
        resource_type: 'tenant',
        resource_id: tenant.id,
        details: { name: tenant.name },
      },
      new Date(),
    );
    const [entry] = (await this.writer.append(tenant.id, [event], tx)).written;
    return { event_id: event.event_id, seq: entry.seq, hash: entry.hash };
  }

  /**
   * A batch from a proxy or gateway, into the principal's tenant. All or nothing: one bad event is a 400 naming
   * its index and writes nothing; otherwise every new event is durable when this resolves. Concurrent batches of
   * one tenant share a commit (see {@link IngestQueue}).
   */
  async ingest(principal: Principal, batch: IngestAuditDto): Promise<AuditIngestResult> {
    const now = new Date();
    const events = batch.events.map((input, index) => runtimeEvent(principal, batch, input, index, now));
    const firstIndex = new Map<string, number>();
    batch.events.forEach((input, index) => {
      const earlier = firstIndex.get(input.event_id);
      if (earlier === undefined) firstIndex.set(input.event_id, index);
      else if (JSON.stringify(events[earlier]) !== JSON.stringify(events[index])) {
        const field = `events.${index}.event_id`;
        throw new DomainError(
          'VALIDATION_ERROR',
          `${field}: repeats events.${earlier}.event_id with different content`,
          [{ field, problems: ['repeats an earlier event id in this batch with different content'], index }],
        );
      }
    });

    // Canonical JSON now, while an earlier commit of this tenant may still be in flight.
    const result = await this.queue.append(principal.tenantId, events.map(prepareEvent));
    const written = result.written;
    if (result.conflicts.length) {
      // Not stored: this writer already stored these ids with other content. The writer must alarm too.
      this.logger.warn(
        `audit ingest: ${result.conflicts.length} event id(s) from ${principal.subject} (key ${principal.keyId}) ` +
          `conflict with events this writer stored earlier with other content; they were NOT stored`,
      );
    }
    return {
      accepted: written.length,
      duplicates: result.duplicates.length,
      conflicts: result.conflicts.length,
      redacted: written.filter((entry) => entry.event.redactions).length,
      duplicate_event_ids: result.duplicates,
      conflict_event_ids: result.conflicts,
      first_seq: written[0]?.seq ?? null,
      last_seq: written[written.length - 1]?.seq ?? null,
    };
  }
}
