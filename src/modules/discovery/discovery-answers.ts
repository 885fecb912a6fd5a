import { Injectable } from '@nestjs/common';
import type { DiscoveryConflict } from '../../../libs/contracts/src/index.js';
import { DiscoveryRepository, type DiscoveredRow } from './discovery.repository.js';

/** What is remembered per tenant: the rows and what is derived from them alone (approvals are not: per request). */
export interface DiscoveredSet {
  rows: DiscoveredRow[];
  conflicts: DiscoveryConflict[];
}

/** A tenant's set as of a generation: read in one snapshot with it. */
export interface GenerationSet {
  generation: number;
  value: DiscoveredSet;
}

/** At most this many tenants' answers are kept (the least recently served go first). */
export const TENANTS_KEPT = 1000;

/**
 * Each tenant's discovery rows (what `DiscoveryRepository.discovered` returns, with what is derived from them
 * alone), kept between requests with the tenant's discovery generation read in the same snapshot. Every commit that
 * changes what they aggregate moves the generation forward in its own transaction (triggers, migration
 * DiscoveryGenerations: real changes only, so the upserts of a fleet sync that changes nothing remote keep it).
 *
 * - **No stale answer after a commit returns**, on any replica, whoever wrote: each request reads the committed
 *   generation (one primary-key read) and serves the kept answer only if it was read at that generation or a later
 *   one; else it reads the rows and the generation together. Snapshot visibility is the whole argument: no
 *   notification, listening connection or expiry.
 * - **One read at a time per tenant**: a request that misses joins a read in flight that was started at its
 *   generation or a later one (that read's snapshot is at least as new as the request).
 * - **Bounded**: at most {@link TENANTS_KEPT} tenants, least recently served dropped first.
 */
@Injectable()
export class DiscoveryAnswers {
  /** Least recently served first. */
  private readonly answers = new Map<string, GenerationSet>();
  /** Reads in flight, with the generation their request saw (their snapshot is at least that one). */
  private readonly reading = new Map<string, { value: Promise<GenerationSet>; generation: number }>();
  /** How many answers were read from the database (not served from memory): for tests and the benchmark. */
  reads = 0;

  constructor(private readonly repository: DiscoveryRepository) {}

  /** The tenant's answer: the kept one while the committed generation is its own, else `read()` (kept). */
  async answer(tenantId: string, read: () => Promise<GenerationSet>): Promise<DiscoveredSet> {
    const generation = await this.repository.generation(tenantId);
    const hit = this.answers.get(tenantId);
    if (hit && hit.generation >= generation) {
      this.answers.delete(tenantId);
      this.answers.set(tenantId, hit);
      return hit.value;
    }
    const inFlight = this.reading.get(tenantId);
    if (inFlight && inFlight.generation >= generation) return (await inFlight.value).value;
    this.reads++;
    const value = read();
    this.reading.set(tenantId, { value, generation });
    try {
      const answer = await value;
      const kept = this.answers.get(tenantId);
      if (!kept || kept.generation <= answer.generation) {
        this.answers.delete(tenantId);
        this.answers.set(tenantId, answer);
        if (this.answers.size > TENANTS_KEPT) this.answers.delete(this.answers.keys().next().value!);
      }
      return answer.value;
    } finally {
      if (this.reading.get(tenantId)?.value === value) this.reading.delete(tenantId);
    }
  }
}
