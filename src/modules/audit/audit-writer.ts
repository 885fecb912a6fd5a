import { Inject, Injectable } from '@nestjs/common';
import type {
  CheckpointPurpose,
  SignedCheckpoint,
  StoredAuditEvent,
} from '../../../libs/contracts/src/index.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import {
  AuditRepository,
  writerEventKey,
  type Alongside,
  type ChainAppend,
  type CheckpointGuard,
  type ChainHead,
  type ChainInput,
  type NewEntry,
} from './audit.repository.js';
import { canonicalJson, CHECKPOINT_FORMAT, checkpointPayload } from './chain.js';

export interface AppendResult {
  written: NewEntry[];
  duplicates: string[];
  conflicts: string[];
}

/** An event ready to append: its writer and canonical JSON computed up front, outside any lock. */
export interface PreparedEvent {
  event: StoredAuditEvent;
  writer: string;
  canonical: string;
}

export function prepareEvent(event: StoredAuditEvent): PreparedEvent {
  return { event, writer: writerOf(event), canonical: canonicalJson(event) };
}

/**
 * Appends to a tenant's chain. Guarantees, for any number of writers on any number of replicas:
 * - no fork and no gap: the head row is locked for the rest of the transaction before the next seq is chosen,
 *   and the head moves in the same statement that inserts the entries, so an aborted transaction leaves no
 *   trace and a committed one leaves a contiguous run;
 * - an event id is stored once per writer (the key that pushed it; see {@link writerOf}): duplicates are looked
 *   up under that lock (or refused by the unique index, and looked up again under it), so they cannot race,
 *   and one writer cannot squat another's ids;
 * - a signed checkpoint of the head at least every N entries, or on the first write T seconds after the oldest
 *   unsigned one, in the transaction of that write (the {@link AuditScheduler} covers tenants that go quiet).
 *
 * Without a caller's transaction, an append is one statement that is its own transaction (lock, duplicate
 * check, hashes, insert, head move, commit: one round trip, the lock held only for that); it falls back to the
 * locked path (lock, the same statement, checkpoint, commit) when that statement cannot be enough.
 */
@Injectable()
export class AuditWriter {
  constructor(
    private readonly repository: AuditRepository,
    private readonly transactions: Transactions,
    private readonly signing: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Appends new control-plane events (each with a fresh random id, so none can be stored already). In the
   * caller's transaction, the common case is one statement that locks the head, chains and moves it (as the
   * append without a transaction does), rather than a lock of the head and then the append: the head is then
   * held for one round trip fewer before the caller's commit. When that statement cannot be enough (no head yet,
   * or a checkpoint falls due and must be signed in this transaction) it writes nothing, and the locked path runs.
   */
  async append(tenantId: string, events: StoredAuditEvent[], tx?: Tx): Promise<AppendResult> {
    const groups = [events.map(prepareEvent)];
    if (!tx) return (await this.appendGroups(tenantId, groups))[0];
    const now = new Date();
    const plan = planAppend(groups);
    const done = await this.repository.appendChained(tenantId, plan.inputs, now, this.guard(), tx);
    if (done) return results(plan, done)[0];
    return (await this.appendLocked(tenantId, plan, now, tx))[0];
  }

  /**
   * {@link append} of new control-plane events in the caller's transaction, with the caller's `alongside` write
   * in the same statement, before the head is locked (see {@link Alongside}): the caller's last two serial
   * writes in one round trip. If the locked path must follow (no head yet, a checkpoint falls due), the
   * alongside write is done already and the append runs as {@link append}'s does.
   */
  async appendAlongside<T>(
    tenantId: string,
    events: StoredAuditEvent[],
    tx: Tx,
    alongside: Alongside<T>,
  ): Promise<{ result: AppendResult; alongside: T }> {
    const now = new Date();
    const plan = planAppend([events.map(prepareEvent)]);
    const done = await this.repository.appendChainedAlongside(
      tenantId,
      plan.inputs,
      now,
      this.guard(),
      tx,
      alongside,
    );
    const [result] = done.append
      ? results(plan, done.append)
      : await this.appendLocked(tenantId, plan, now, tx);
    return { result, alongside: done.alongside };
  }

  private guard(): CheckpointGuard {
    return { entries: this.config.auditCheckpointEntries, seconds: this.config.auditCheckpointSeconds };
  }

  /**
   * Appends several callers' batches in one transaction (group commit), in order, with one result each: an event
   * repeated across groups is written once and reported as a duplicate (or conflict) to the later caller. With
   * `tx`, joins it (and holds the tenant's head until it commits); without, commits before resolving.
   */
  async appendGroups(tenantId: string, groups: PreparedEvent[][], tx?: Tx): Promise<AppendResult[]> {
    const now = new Date();
    const plan = planAppend(groups);
    if (!tx) {
      const done = await this.repository.appendChained(tenantId, plan.inputs, now, this.guard());
      if (done) return results(plan, done);
      return this.transactions.run((t) => this.appendLocked(tenantId, plan, now, t));
    }
    return this.appendLocked(tenantId, plan, now, tx);
  }

  private async appendLocked(tenantId: string, plan: Plan, now: Date, tx: Tx): Promise<AppendResult[]> {
    const head = await this.repository.lockHead(tenantId, tx);
    const done = (await this.repository.appendChained(tenantId, plan.inputs, now, null, tx))!;
    const out = results(plan, done);
    const written = done.hashes.length;
    if (written > 0 && this.checkpointDue(head, head.seq + written, now)) {
      const last = head.seq + written;
      await this.repository.insertCheckpoint(
        tenantId,
        this.sign(tenantId, last, done.hashes[written - 1], 'periodic'),
        tx,
      );
    }
    return out;
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

/** The groups' events, first occurrence per (writer, id) as the statement's inputs, in order. */
interface Plan {
  groups: PreparedEvent[][];
  inputs: ChainInput[];
  /** Per group, per event: its input index; the first occurrence of each key is the one at that index. */
  index: number[][];
  firsts: PreparedEvent[];
}

function planAppend(groups: PreparedEvent[][]): Plan {
  const byKey = new Map<string, number>();
  const inputs: ChainInput[] = [];
  const firsts: PreparedEvent[] = [];
  const index = groups.map((events) =>
    events.map((prepared) => {
      const key = writerEventKey(prepared.writer, prepared.event.event_id);
      let n = byKey.get(key);
      if (n === undefined) {
        n = inputs.length;
        byKey.set(key, n);
        inputs.push({
          writer: prepared.writer,
          eventId: prepared.event.event_id,
          canonical: prepared.canonical,
        });
        firsts.push(prepared);
      }
      return n;
    }),
  );
  return { groups, inputs, index, firsts };
}

/**
 * Each group's result from what the statement did: a first occurrence it did not skip was written (seqs in
 * input order after the head); any other event is a duplicate or a conflict of the stored one, or else of the
 * first occurrence written in this commit.
 */
function results(plan: Plan, done: ChainAppend): AppendResult[] {
  const rows = new Map<number, NewEntry>();
  let seq = done.head.seq;
  let prevHash = done.head.hash;
  plan.firsts.forEach((prepared, n) => {
    if (done.stored.has(n)) return;
    const hash = done.hashes[seq - done.head.seq];
    seq += 1;
    rows.set(n, { seq, prevHash, hash, event: prepared.event });
    prevHash = hash;
  });
  if (rows.size !== done.hashes.length) throw new Error('audit append: the statement wrote another count');
  const reported = new Set<number>();
  return plan.groups.map((events, g) => {
    const result: AppendResult = { written: [], duplicates: [], conflicts: [] };
    events.forEach((prepared, i) => {
      const n = plan.index[g][i];
      const row = rows.get(n);
      if (row && !reported.has(n)) {
        reported.add(n);
        result.written.push(row);
        return;
      }
      const earlier = done.stored.get(n) ?? plan.firsts[n].event;
      (sameContent(earlier, prepared.event) ? result.duplicates : result.conflicts).push(
        prepared.event.event_id,
      );
    });
    return result;
  });
}

/** Same event re-sent: equal in everything the sender chose (not when or by which key it arrived). */
function sameContent(a: StoredAuditEvent, b: StoredAuditEvent): boolean {
  return canonicalJson(senderContent(a)) === canonicalJson(senderContent(b));
}

function senderContent(event: StoredAuditEvent): Partial<StoredAuditEvent> {
  const { received_at: _received, actor: _actor, ...rest } = event;
  return rest;
}
