import { Injectable } from '@nestjs/common';
import type { SignedCheckpoint } from '../../../libs/contracts/src/index.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { AuditRepository, type StoredEntry } from './audit.repository.js';
import { ChainVerifier } from './chain-verifier.js';

export type ChainItem =
  { kind: 'entry'; entry: StoredEntry } | { kind: 'checkpoint'; checkpoint: SignedCheckpoint };

/** Inclusive seq ranges of entries and of checkpoints to read. */
export interface ChainRange {
  entriesFrom: number;
  entriesTo: number;
  checkpointsFrom: number;
  checkpointsTo: number;
}

const PAGE = 500;

/**
 * Reads a tenant's chain in seq order, entries and checkpoints merged (an entry before the checkpoints at its
 * seq), one keyset page of each at a time: memory stays flat however long the chain.
 */
@Injectable()
export class ChainReader {
  constructor(
    private readonly repository: AuditRepository,
    private readonly signing: SigningKeys,
  ) {}

  async *items(tenantId: string, range: ChainRange): AsyncGenerator<ChainItem> {
    const entries = pager(
      (after) => this.repository.entriesPage(tenantId, after, range.entriesTo, PAGE),
      range.entriesFrom - 1,
    );
    const checkpoints = pager(
      (after) => this.repository.checkpointsPage(tenantId, after, range.checkpointsTo, PAGE),
      range.checkpointsFrom - 1,
    );
    let entry = await entries.next();
    let checkpoint = await checkpoints.next();
    while (entry || checkpoint) {
      if (entry && (!checkpoint || entry.seq <= checkpoint.seq)) {
        yield { kind: 'entry', entry };
        entry = await entries.next();
      } else if (checkpoint) {
        yield { kind: 'checkpoint', checkpoint };
        checkpoint = await checkpoints.next();
      }
    }
  }

  /** A verifier for this tenant that checks signatures against the control plane's key ring. */
  verifier(tenantId: string, start: 'strict' | 'partial'): ChainVerifier {
    return new ChainVerifier({
      tenantId,
      start,
      checkSignature: (keyId, payload, signature) => this.signing.verify(keyId, payload, signature),
    });
  }
}

/** Pulls keyset pages on demand; `next()` resolves to undefined when exhausted. */
function pager<T extends { seq: number }>(fetch: (afterSeq: number) => Promise<T[]>, startAfter: number) {
  let buffer: T[] = [];
  let index = 0;
  let after = startAfter;
  let done = false;
  return {
    async next(): Promise<T | undefined> {
      if (index >= buffer.length) {
        if (done) return undefined;
        buffer = await fetch(after);
        index = 0;
        if (buffer.length < PAGE) done = true;
        if (buffer.length === 0) return undefined;
        after = buffer[buffer.length - 1].seq;
      }
      return buffer[index++];
    },
  };
}
