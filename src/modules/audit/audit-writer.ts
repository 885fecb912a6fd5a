import { Inject, Injectable } from '@nestjs/common';
import type {
  CheckpointPurpose,
  SignedCheckpoint,
  StoredAuditEvent,
} from '../../../libs/contracts/src/index.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import type { Tx } from '../../core/database/transactions.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { AuditRepository, writerEventKey, type ChainHead, type NewEntry } from './audit.repository.js';
import { canonicalJson, CHECKPOINT_FORMAT, checkpointPayload, entryHash } from './chain.js';

export interface AppendResult {
  written: NewEntry[];
  duplicates: string[];
  conflicts: string[];
}

/**
 * Appends to a tenant's chain. Guarantees, for any number of writers on any number of replicas:
 * - no fork and no gap: the head row is locked for the rest of the caller's transaction before the next seq is
 *   chosen, and the head moves in the same statement that inserts the entries, so an aborted transaction leaves
 *   no trace and a committed one leaves a contiguous run;
 * - an event id is stored once per writer (the key that pushed it; see {@link writerOf}): duplicates are looked
 *   up under that lock, so they cannot race, and one writer cannot squat another's ids;
 * - a signed checkpoint of the head at least every N entries, or on the first write T seconds after the oldest
 *   unsigned one (the {@link AuditScheduler} covers tenants that go quiet).
 */
@Injectable()
export class AuditWriter {
  constructor(
    private readonly repository: AuditRepository,
    private readonly signing: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `minted`: the events were made by the control plane for this append (fresh random ids, `controlPlaneEvent`),
   * so none can repeat a stored one and the duplicate look-up under the head lock is skipped;
   * the unique index on (tenant, writer, event id) still refuses one that did, rolling the caller back.
   */
  async append(
    tenantId: string,
    events: StoredAuditEvent[],
    tx: Tx,
    options: { minted?: boolean } = {},
  ): Promise<AppendResult> {
    const [result] = await this.appendGroups(tenantId, [events], tx, options);
    return result;
  }

  /**
   * Appends several callers' batches in one transaction (group commit), in order, with one result each: an event
   * repeated across groups is written once and reported as a duplicate (or conflict) to the later caller.
   */
  async appendGroups(
    tenantId: string,
    groups: StoredAuditEvent[][],
    tx: Tx,
    options: { minted?: boolean } = {},
  ): Promise<AppendResult[]> {
    const now = new Date();
    const head = await this.repository.lockHead(tenantId, tx);
    const ids = [...new Set(groups.flat().map((e) => e.event_id))];
    const stored = options.minted
      ? new Map<string, StoredAuditEvent>()
      : await this.repository.findByEventIds(tenantId, ids, tx);
    const written = new Map<string, StoredAuditEvent>();
    const rows: NewEntry[] = [];
    let seq = head.seq;
    let prevHash = head.hash;
    const results = groups.map((events) => {
      const result: AppendResult = { written: [], duplicates: [], conflicts: [] };
      for (const event of events) {
        const id = writerEventKey(writerOf(event), event.event_id);
        const earlier = stored.get(id) ?? written.get(id);
        if (earlier) {
          (sameContent(earlier, event) ? result.duplicates : result.conflicts).push(event.event_id);
          continue;
        }
        seq += 1;
        const hash = entryHash(tenantId, seq, prevHash, event);
        const row = { seq, prevHash, hash, event };
        result.written.push(row);
        rows.push(row);
        written.set(id, event);
        prevHash = hash;
      }
      return result;
    });
    if (rows.length === 0) return results;
    await this.repository.append(tenantId, rows, now, tx);
    if (this.checkpointDue(head, seq, now)) {
      await this.repository.insertCheckpoint(tenantId, this.sign(tenantId, seq, prevHash, 'periodic'), tx);
    }
    return results;
  }

  /** Signs "entry `seq` of this tenant had hash `hash`". */
  sign(tenantId: string, seq: number, hash: string, purpose: CheckpointPurpose): SignedCheckpoint {
    const statement = {
      format: CHECKPOINT_FORMAT,
      tenant_id: tenantId,
      seq,
      hash,
      purpose,
      signed_at: new Date().toISOString(),
      key_id: this.signing.currentKeyId,
    } as const;
    const { signature } = this.signing.sign(checkpointPayload(statement));
    return { ...statement, signature };
  }

  /** Signs and stores a checkpoint of the locked head (the sweeper's path). */
  async checkpointHead(tenantId: string, head: ChainHead, tx: Tx): Promise<void> {
    await this.repository.insertCheckpoint(
      tenantId,
      this.sign(tenantId, head.seq, head.hash, 'periodic'),
      tx,
    );
  }

  private checkpointDue(before: ChainHead, newSeq: number, now: Date): boolean {
    if (newSeq - before.checkpointedSeq >= this.config.auditCheckpointEntries) return true;
    const since = before.unsignedSince;
    return since !== null && now.getTime() - since.getTime() >= this.config.auditCheckpointSeconds * 1000;
  }
}

/**
 * Who wrote an event, for id uniqueness: the API key that pushed it, or the subject when there is no key (the
 * CLI's system principal). Matches the `writer` column (migration 1764028800000). A retry after the writer's
 * key was rotated is stored again (under the new key) rather than deduplicated: visible, never lost.
 */
export function writerOf(event: StoredAuditEvent): string {
  return event.actor?.key_id ?? event.actor?.subject ?? '';
}

/** Same event re-sent: equal in everything the sender chose (not when or by which key it arrived). */
function sameContent(a: StoredAuditEvent, b: StoredAuditEvent): boolean {
  return canonicalJson(senderContent(a)) === canonicalJson(senderContent(b));
}

function senderContent(event: StoredAuditEvent): Partial<StoredAuditEvent> {
  const { received_at: _received, actor: _actor, ...rest } = event;
  return rest;
}
