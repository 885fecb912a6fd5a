import {
  CHECKPOINT_PURPOSES,
  type SignedCheckpoint,
  type VerifyFailure,
  type VerifyReport,
} from '../../../libs/contracts/src/index.js';
import type { SignatureCheck } from '../../core/signing/key-ring.js';
import { CHECKPOINT_FORMAT, checkpointPayload, entryHash, GENESIS_HASH, type ChainEntry } from './chain.js';

/**
 * Verifies an audit chain as it streams past. The control plane's `/v1/audit/verify`, its export, and the offline
 * `agent-bom audit verify` all run this same code; docs/audit.md states its rules for third parties.
 */
export interface VerifierOptions {
  tenantId: string;
  /** Checks an Ed25519 signature by key id (the server's key ring, or keys pinned offline). */
  checkSignature: (keyId: string, payload: string, signature: string) => SignatureCheck;
  /**
   * `strict`: the chain must start at seq 1 or right after a signed retention anchor (a whole tenant chain).
   * `partial`: an export of a range may start anywhere; the report says the start is unanchored.
   */
  start: 'strict' | 'partial';
}

type Broken = NonNullable<VerifyReport['first_broken']>;

export interface FinishOptions {
  head?: { seq: number; hash?: string };
  requireFinalCheckpoint?: boolean;
}
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Verifies a chain fed in seq order (an entry, then the checkpoints at its seq), holding only the last link:
 * constant memory however long the chain. Stops at the first break and reports where it is.
 */
export class ChainVerifier {
  private first: number | undefined;
  private last: { seq: number; hash: string } | undefined;
  /** Checkpoints seen before the first entry: the anchor the chain may start after. */
  private preStart: SignedCheckpoint | undefined;
  /** A checkpoint beyond the last entry: entries it covers are missing unless the input is disordered. */
  private pendingBeyond: SignedCheckpoint | undefined;
  private lastItem: { kind: 'entry' | 'checkpoint'; seq: number } | undefined;
  private startKind: VerifyReport['start'] = 'empty';
  private broken: Broken | undefined;
  private entries = 0;
  private checkpoints = 0;
  private checkpointedTo: number | null = null;

  constructor(private readonly options: VerifierOptions) {}

  get ok(): boolean {
    return this.broken === undefined;
  }

  get lastSeq(): number | undefined {
    return this.last?.seq;
  }

  get lastHash(): string | undefined {
    return this.last?.hash;
  }

  /** Records a failure found outside the chain itself (a malformed export line). */
  fail(seq: number | null, reason: VerifyFailure, detail: string, line?: number): false {
    this.broken ??= { seq, reason, detail, ...(line === undefined ? {} : { line }) };
    return false;
  }

  addEntry(entry: ChainEntry, line?: number): boolean {
    if (this.broken) return false;
    if (!isEntryShape(entry)) return this.fail(seqOf(entry), 'malformed', 'not a well-formed entry', line);
    const { seq } = entry;
    if (entry.tenant_id !== this.options.tenantId) {
      return this.fail(seq, 'wrong_tenant', `entry belongs to tenant "${entry.tenant_id}"`, line);
    }
    if (this.pendingBeyond && seq <= this.pendingBeyond.seq) {
      return this.fail(
        this.pendingBeyond.seq,
        'checkpoint_out_of_order',
        'checkpoint before its entry',
        line,
      );
    }
    if (this.last === undefined) {
      if (!this.checkStart(entry, line)) return false;
    } else if (seq <= this.last.seq) {
      return this.fail(seq, 'seq_order', `seq ${seq} follows seq ${this.last.seq}`, line);
    } else if (seq > this.last.seq + 1) {
      return this.fail(this.last.seq + 1, 'seq_gap', missing(this.last.seq + 1, seq - 1), line);
    }
    let computed: string;
    try {
      computed = entryHash(entry.tenant_id, seq, entry.prev_hash, entry.event);
    } catch {
      return this.fail(seq, 'hash_mismatch', 'the event holds values canonical JSON cannot', line);
    }
    if (computed !== entry.hash) {
      return this.fail(
        seq,
        'hash_mismatch',
        `entry ${seq} was altered: its content does not match its hash`,
        line,
      );
    }
    const expectedPrev = this.last ? this.last.hash : this.startPrev(entry);
    if (entry.prev_hash !== expectedPrev) {
      const what = this.last
        ? `entry ${this.last.seq}`
        : this.startKind === 'genesis'
          ? 'genesis'
          : 'the anchor';
      return this.fail(seq, 'link_broken', `entry ${seq} does not link to ${what}`, line);
    }
    this.first ??= seq;
    this.last = { seq, hash: entry.hash };
    this.entries++;
    this.lastItem = { kind: 'entry', seq };
    return true;
  }

  addCheckpoint(checkpoint: SignedCheckpoint, line?: number): boolean {
    if (this.broken) return false;
    if (!isCheckpointShape(checkpoint)) {
      return this.fail(seqOf(checkpoint), 'malformed', 'not a well-formed checkpoint', line);
    }
    const { seq } = checkpoint;
    if (checkpoint.tenant_id !== this.options.tenantId) {
      return this.fail(seq, 'wrong_tenant', `checkpoint belongs to tenant "${checkpoint.tenant_id}"`, line);
    }
    const check = this.options.checkSignature(
      checkpoint.key_id,
      checkpointPayload(checkpoint),
      checkpoint.signature,
    );
    if (check === 'unknown_key') {
      return this.fail(
        seq,
        'checkpoint_unknown_key',
        `checkpoint signed by unknown key ${checkpoint.key_id}`,
        line,
      );
    }
    if (check !== 'ok') {
      return this.fail(
        seq,
        'checkpoint_signature_invalid',
        `checkpoint at seq ${seq} has a bad signature`,
        line,
      );
    }
    this.checkpoints++;
    this.lastItem = { kind: 'checkpoint', seq };

    if (this.last === undefined) {
      if (this.preStart && seq <= this.preStart.seq) {
        return this.fail(
          seq,
          'checkpoint_out_of_order',
          `checkpoint ${seq} after ${this.preStart.seq}`,
          line,
        );
      }
      const anchored = checkpoint.purpose === 'anchor' || this.options.start === 'partial';
      if (!anchored || (this.preStart && this.options.start === 'partial')) {
        const from = this.startFloor();
        return this.fail(
          from,
          'missing_head',
          `${missing(from, seq)}: a checkpoint signed ${checkpoint.signed_at} covers them`,
          line,
        );
      }
      this.preStart = checkpoint;
      return true;
    }
    if (seq === this.last.seq) {
      if (checkpoint.hash !== this.last.hash) {
        return this.fail(
          seq,
          'checkpoint_mismatch',
          `entry ${seq} differs from the one signed ${checkpoint.signed_at}`,
          line,
        );
      }
      this.checkpointedTo = seq;
      return true;
    }
    if (seq < this.last.seq) {
      return this.fail(
        seq,
        'checkpoint_out_of_order',
        `checkpoint ${seq} after entry ${this.last.seq}`,
        line,
      );
    }
    this.pendingBeyond ??= checkpoint;
    return true;
  }

  /**
   * Ends the walk. `head`: where the chain must end (the store's head row, or an export's last seq), with its
   * hash when known. `requireFinalCheckpoint`: an export must end with a signed checkpoint covering its last
   * entry, or its tail could have been cut off.
   */
  finish(options: FinishOptions = {}): VerifyReport {
    if (!this.broken) this.finalChecks(options);
    return {
      ok: this.broken === undefined,
      tenant_id: this.options.tenantId,
      verified_from: this.first ?? null,
      verified_to: this.last?.seq ?? null,
      entries_verified: this.entries,
      checkpoints_verified: this.checkpoints,
      checkpointed_to: this.checkpointedTo,
      start: this.startKind,
      first_broken: this.broken ?? null,
    };
  }

  private finalChecks(options: FinishOptions): void {
    const { head } = options;
    if (this.pendingBeyond) {
      const from = (this.last?.seq ?? 0) + 1;
      this.fail(
        from,
        'missing_tail',
        `${missing(from, this.pendingBeyond.seq)}: a checkpoint signed ${this.pendingBeyond.signed_at} covers them`,
      );
      return;
    }
    if (this.last === undefined) {
      const floor = this.startFloor();
      if (head && head.seq >= floor) {
        this.fail(floor, 'missing_tail', `${missing(floor, head.seq)}: the chain head is at seq ${head.seq}`);
        return;
      }
      if (this.preStart) this.startKind = 'anchor';
      if (options.requireFinalCheckpoint && !this.preStart) {
        this.fail(null, 'unsigned_tail', 'the export ends without a signed checkpoint');
      }
      return;
    }
    if (head && head.seq > this.last.seq) {
      this.fail(
        this.last.seq + 1,
        'missing_tail',
        `${missing(this.last.seq + 1, head.seq)}: the chain head is at seq ${head.seq}`,
      );
      return;
    }
    if (head && head.seq < this.last.seq) {
      this.fail(head.seq + 1, 'head_mismatch', `entries after the chain head (seq ${head.seq}) were added`);
      return;
    }
    if (head?.hash !== undefined && head.hash !== this.last.hash) {
      this.fail(head.seq, 'head_mismatch', `entry ${head.seq} differs from the chain head`);
      return;
    }
    const signedLast = this.lastItem?.kind === 'checkpoint' && this.lastItem.seq === this.last.seq;
    if (options.requireFinalCheckpoint && !signedLast) {
      this.fail(
        (this.checkpointedTo ?? this.first! - 1) + 1,
        'unsigned_tail',
        'the export does not end with a signed checkpoint covering its last entry',
      );
    }
  }

  /** Positional checks on the first entry; decides how the chain starts. */
  private checkStart(entry: ChainEntry, line?: number): boolean {
    const { seq } = entry;
    if (seq === 1) {
      if (this.preStart)
        return this.fail(1, 'checkpoint_out_of_order', 'a checkpoint precedes entry 1', line);
      this.startKind = 'genesis';
      return true;
    }
    const anchor = this.preStart;
    if (anchor && anchor.seq >= seq) {
      return this.fail(anchor.seq, 'checkpoint_out_of_order', 'a checkpoint precedes its entry', line);
    }
    if (anchor && anchor.seq === seq - 1) {
      this.startKind =
        this.options.start === 'partial' && anchor.purpose !== 'anchor' ? 'unanchored' : 'anchor';
      this.checkpointedTo = anchor.seq;
      return true;
    }
    if (anchor && anchor.seq < seq - 1) {
      return this.fail(
        anchor.seq + 1,
        this.options.start === 'partial' ? 'seq_gap' : 'missing_head',
        missing(anchor.seq + 1, seq - 1),
        line,
      );
    }
    if (this.options.start === 'partial') {
      this.startKind = 'unanchored';
      return true;
    }
    return this.fail(
      1,
      'missing_head',
      `${missing(1, seq - 1)} and no signed retention anchor covers them`,
      line,
    );
  }

  private startPrev(entry: ChainEntry): string {
    if (entry.seq === 1) return GENESIS_HASH;
    return this.preStart && this.preStart.seq === entry.seq - 1 ? this.preStart.hash : entry.prev_hash;
  }

  /** The first seq that must exist: 1, or the one after the latest retention anchor. */
  private startFloor(): number {
    return this.preStart ? this.preStart.seq + 1 : 1;
  }
}

function missing(from: number, to: number): string {
  return from === to ? `entry ${from} is missing` : `entries ${from}..${to} are missing`;
}

function seqOf(value: unknown): number | null {
  const seq = (value as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null;
}

function isEntryShape(entry: ChainEntry): boolean {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.tenant_id === 'string' &&
    Number.isSafeInteger(entry.seq) &&
    entry.seq >= 1 &&
    typeof entry.prev_hash === 'string' &&
    HEX64.test(entry.prev_hash) &&
    typeof entry.hash === 'string' &&
    HEX64.test(entry.hash) &&
    typeof entry.event === 'object' &&
    entry.event !== null
  );
}

function isCheckpointShape(cp: SignedCheckpoint): boolean {
  return (
    typeof cp === 'object' &&
    cp !== null &&
    cp.format === CHECKPOINT_FORMAT &&
    typeof cp.tenant_id === 'string' &&
    Number.isSafeInteger(cp.seq) &&
    cp.seq >= 1 &&
    typeof cp.hash === 'string' &&
    HEX64.test(cp.hash) &&
    (CHECKPOINT_PURPOSES as readonly string[]).includes(cp.purpose) &&
    typeof cp.signed_at === 'string' &&
    typeof cp.key_id === 'string' &&
    typeof cp.signature === 'string'
  );
}
