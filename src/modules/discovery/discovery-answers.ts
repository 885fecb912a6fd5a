import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DiscoveryConflict } from '../../../libs/contracts/src/index.js';
import type { Listener } from '../../core/database/notifications.js';
import { DiscoveryRepository, type DiscoveredRow } from './discovery.repository.js';

/** What is remembered per tenant: the rows and what is derived from them alone (approvals are not: per request). */
export interface DiscoveredSet {
  rows: DiscoveredRow[];
  conflicts: DiscoveryConflict[];
}

/**
 * A remembered answer is read again after this long even without a notification: a bound on a change no trigger
 * saw (rows written with triggers off, `session_replication_role = replica`). Longer than a gateway's default
 * refresh (60 s), so one gateway polling alone is served from memory too.
 */
const MAX_AGE_MS = 300_000;
const RECONNECT_MS = 1_000;

/**
 * Each tenant's discovery rows (what `DiscoveryRepository.discovered` returns, with what is derived from them
 * alone), remembered between requests and forgotten when a commit changes what they aggregate: triggers notify
 * `DISCOVERY_CHANNEL` with the tenant id (migration DiscoveryNotify: real changes only, so the upserts of a
 * fleet sync that changes nothing remote keep the answer), and every replica LISTENs on a connection of its own.
 *
 * - **No stale answer after a commit returns**, on any replica: before a remembered answer is served, a barrier
 *   on the listening connection ({@link Listener.barrier}) makes sure every notification of a transaction that
 *   committed before the request arrived has been applied.
 * - **A read that a notification overtook is not kept** (per-tenant generations): rows read before a commit are
 *   not served after its notification.
 * - **One read at a time per tenant**: requests that miss while a current read is in flight wait for it.
 * - **Nothing is remembered while LISTEN is down** (start-up, a lost connection, a database that refuses LISTEN):
 *   every request reads the database, and a read that started then is not kept.
 */
@Injectable()
export class DiscoveryAnswers implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('DiscoveryAnswers');
  /** In the order they were stored, so the oldest are first (expired ones are dropped from the front). */
  private readonly answers = new Map<string, { value: DiscoveredSet; at: number }>();
  private readonly generations = new Map<string, number>();
  /** Reads in flight, joined by requests that arrive while they are still current (single flight). */
  private readonly reading = new Map<
    string,
    { value: Promise<DiscoveredSet>; generation: number; epoch: number }
  >();
  private listener?: Listener;
  private listening = false;
  private epoch = 0;
  private closed = false;
  private warned = false;
  private retry?: NodeJS.Timeout;
  /** How many answers were read from the database (not served from memory): for tests and the benchmark. */
  reads = 0;

  constructor(private readonly repository: DiscoveryRepository) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.forgetAll();
    await this.listener?.close();
  }

  /** The tenant's answer: the remembered one while no change was committed, else `read()` (kept if still current). */
  async answer(tenantId: string, read: () => Promise<DiscoveredSet>): Promise<DiscoveredSet> {
    await this.settled();
    const hit = this.listening ? this.answers.get(tenantId) : undefined;
    if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.value;
    const listening = this.listening;
    const epoch = this.epoch;
    const generation = this.generations.get(tenantId) ?? 0;
    // A read that no change overtook (its generation is still current after this request's barrier) is as
    // current as one started now: join it.
    const inFlight = listening ? this.reading.get(tenantId) : undefined;
    if (inFlight && inFlight.generation === generation && inFlight.epoch === epoch) return inFlight.value;
    this.reads++;
    const value = read();
    if (listening) this.reading.set(tenantId, { value, generation, epoch });
    try {
      const answer = await value;
      if (
        listening &&
        this.listening &&
        epoch === this.epoch &&
        generation === (this.generations.get(tenantId) ?? 0)
      ) {
        this.answers.delete(tenantId);
        this.answers.set(tenantId, { value: answer, at: Date.now() });
        this.dropExpired();
      }
      return answer;
    } finally {
      if (this.reading.get(tenantId)?.value === value) this.reading.delete(tenantId);
    }
  }

  /**
   * Resolves once every change committed before the call has been applied (its notification received). If the
   * listening connection fails here, everything is forgotten (it is reconnected), so the caller reads.
   */
  async settled(): Promise<void> {
    if (!this.listening || !this.listener) return;
    await this.listener.barrier().catch(() => this.forgetAll());
  }

  /** Forgets the tenant's answer (`*`: every tenant's) and any read of it in flight. */
  forget(tenantId: string): void {
    if (tenantId === '*') {
      this.epoch++;
      this.answers.clear();
      return;
    }
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    this.answers.delete(tenantId);
  }

  private forgetAll(): void {
    this.listening = false;
    this.epoch++;
    this.answers.clear();
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [tenantId, { at }] of this.answers) {
      if (now - at < MAX_AGE_MS) return;
      this.answers.delete(tenantId);
    }
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    try {
      this.listener = await this.repository.listenChanges(
        (tenantId) => this.forget(tenantId),
        () => {
          this.forgetAll();
          this.listener = undefined;
          if (!this.closed) this.retry = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
        },
      );
      if (this.closed) return void (await this.listener.close());
      this.listening = true;
      this.warned = false;
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          `discovery reads the database on every request until LISTEN works: ${(error as Error).message}`,
        );
      }
      if (!this.closed) this.retry = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
    }
  }
}
