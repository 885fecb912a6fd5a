import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FleetSyncResult } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { GroupCommit, type Outcome } from '../../core/database/group-commit.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AuditService } from '../audit/audit.service.js';
import type { FleetSyncDto } from './dto/fleet-sync.dto.js';
import { FleetEnrollmentService, PushRefused, type Admission } from './fleet-enrollment.service.js';
import { attempt, replayed, writtenBy, type PreparedSync, type Written } from './fleet-sync.answers.js';
import { syncRows } from './fleet-sync.rows.js';
import type { Enrollment } from './fleet-enrollment.repository.js';
import {
  FleetSyncRepository,
  type AgentCounts,
  type DecidedOn,
  type FleetSyncTransaction,
} from './fleet-sync.repository.js';

const IDEMPOTENCY_SCOPE = 'fleet.sync';

/**
 * At most this many syncs share one commit. A group written apart writes each in a savepoint of its own, a
 * subtransaction: PostgreSQL
 * keeps up to 64 of a transaction's subtransaction ids in shared memory, and past that every other session's
 * visibility checks get slower while the transaction runs.
 */
const MAX_SYNCS_PER_COMMIT = 32;

/**
 * And at most this many rows (an endpoint, its agents and servers) of syncs: a large inventory's statements take
 * milliseconds of PostgreSQL's CPU, and such syncs gain more from running in parallel (each in its own lane) than
 * from sharing a commit; the small syncs of a fleet's many endpoints share it.
 */
const MAX_ROWS_PER_COMMIT = 600;

/**
 * Commits in flight per tenant (and process): the syncs' own statements run in one backend per lane, so more
 * lanes let them run in parallel; each lane's commit still ends on the tenant's agent count and chain head.
 */
const LANES = 4;

/**
 * A lane beyond the first opens only for this many rows of queued syncs. A tenant's commits pass its agent count
 * and chain head one at a time, each held through its COMMIT's WAL flush (~5–8 ms at load, most of a commit's
 * serial part), so throughput is syncs per commit: small syncs (an endpoint of a few agents) wait for the lane in
 * flight and share its next commit (1 lane: ~4 syncs a commit with 8 clients, against ~1.5 with 4 lanes); a large
 * inventory, whose write takes milliseconds of its own, still gets a lane of its own.
 */
const ROWS_PER_LANE = 200;

/**
 * Thrown inside a group's shared statements when they cannot give each sync its own answer (a statement failed, or
 * the group would pass the quota): the transaction rolls back, and the group is written again one sync at a time,
 * each in a savepoint of its own.
 */
class WriteApart extends Error {
  constructor(readonly reason: unknown) {
    super('the group is written again one sync at a time');
  }
}

/**
 * `POST /v1/fleet/sync`: one endpoint's whole current inventory, written whole or not at all.
 * Upsert key: (tenant, source_id, client, agent name). Agents and servers the endpoint no longer reports are
 * removed. Remote (name, url) pairs get their stable discovery names here, on the write path.
 *
 * Concurrent syncs of one tenant share commits ({@link GroupCommit}): every sync of a tenant ends on its agent
 * count and audit chain head, held to commit. Up to {@link LANES} commits run per tenant; syncs that arrive while
 * all are in flight queue, and the next lane takes them together. A group (or a sync alone) is written with a
 * fixed number of statements whatever its size ({@link writeTogether}): its locks; its enrollments (and stored
 * Idempotency-Key answers) read at once, each sync admitted, replayed or refused from them; one statement for all
 * the admitted syncs' credentials, enrollments and inventories; one statement that counts their agents and then
 * appends their audit records; COMMIT. A sync refused there gets its own error and writes nothing. If the shared statements
 * cannot give each sync its own answer (one of them fails in PostgreSQL, or the group would pass the quota), the
 * transaction rolls back and the group is written again one sync at a time, each in a savepoint of its own
 * ({@link writeApart}): what lands is exactly what would land if the syncs came one after the other. Every answer
 * waits for the commit; if the commit fails, every sync of the group fails with it.
 */
@Injectable()
export class FleetSyncService {
  private readonly commits: GroupCommit<PreparedSync, FleetSyncResult>;

  constructor(
    private readonly repository: FleetSyncRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly enrollment: FleetEnrollmentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.commits = new GroupCommit((tenantId, syncs) => this.commitGroup(tenantId, syncs), {
      max: MAX_ROWS_PER_COMMIT,
      size: (sync) => 1 + sync.agents.length + sync.servers.length,
      maxJobs: MAX_SYNCS_PER_COMMIT,
      lanes: LANES,
      laneAt: ROWS_PER_LANE,
    });
  }

  /** A push, admitted by endpoint enrollment; a refused push writes nothing but its audit record. */
  async sync(principal: Principal, payload: FleetSyncDto, idempotencyKey?: string): Promise<FleetSyncResult> {
    try {
      this.enrollment.checkBinding(principal, payload.source_id);
      const rows = syncRows(payload, idempotencyKey);
      // Only a retryable request needs its body's hash (serialising a large inventory costs a pass over it).
      const requestHash = idempotencyKey
        ? createHash('sha256').update(JSON.stringify(payload)).digest('hex')
        : '';
      return await this.commits.submit(principal.tenantId, {
        ...rows,
        principal,
        idempotencyKey,
        requestHash,
        now: new Date(),
      });
    } catch (error) {
      if (error instanceof PushRefused) await this.enrollment.recordRefusal(principal, error);
      throw error;
    }
  }

  /** One transaction for a tenant's group of syncs (two if it must be written apart); see the class comment. */
  private async commitGroup(tenantId: string, syncs: PreparedSync[]): Promise<Outcome<FleetSyncResult>[]> {
    // Two syncs of one endpoint or with one Idempotency-Key: the second's answer depends on the first's writes.
    const distinct = (values: string[]) => new Set(values).size === values.length;
    if (
      distinct(syncs.map((s) => s.endpoint.source_id)) &&
      distinct(syncs.flatMap((s) => (s.idempotencyKey ? [s.idempotencyKey] : [])))
    ) {
      try {
        return await this.transactions.run(async (unit) =>
          this.append(tenantId, syncs, await this.writeTogether(tenantId, syncs, unit), unit, true),
        );
      } catch (error) {
        if (!(error instanceof WriteApart)) throw error;
      }
    }
    return this.transactions.run(async (unit) => {
      // The group's advisory locks first, in one order, so that two groups (of two replicas) cannot deadlock.
      await this.lockGroup(this.repository.within(unit, tenantId), syncs);
      return this.append(tenantId, syncs, await this.writeApart(tenantId, syncs, unit), unit, false);
    });
  }

  /**
   * Last, the group's audit records in one append: the tenant's chain head is locked from here to commit. With
   * `count` (the group was written together and its agents are not counted yet), the count goes in the same
   * statement, before the head ({@link FleetSyncTransaction.agentCountAlongside}): a tenant's commits pass the
   * count row and the head one after the other, so that is one round trip fewer on its serial path. The quota is
   * checked on what the count returned; a group that would pass it rolls back (its entries with it: the chain
   * keeps no gap) and is written apart, a sync alone fails with QUOTA_EXCEEDED.
   */
  private async append(
    tenantId: string,
    syncs: PreparedSync[],
    outcomes: Outcome<Written>[],
    unit: Tx,
    count: boolean,
  ): Promise<Outcome<FleetSyncResult>[]> {
    const records = outcomes.flatMap((outcome, i) =>
      outcome.ok && outcome.value.actions.length
        ? [{ principal: syncs[i].principal, actions: outcome.value.actions }]
        : [],
    );
    const deltas = count ? outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value.added] : [])) : [];
    // A group that adds and removes no agent (the steady state) leaves the count, and its row lock, alone.
    if (deltas.some((delta) => delta !== 0)) {
      const total = deltas.reduce((a, b) => a + b, 0);
      const tx = this.repository.within(unit, tenantId);
      const after = records.length
        ? await this.audit.recordEachAlongside(tenantId, records, unit, tx.agentCountAlongside(total))
        : await tx.addAgents(total);
      this.checkQuota(syncs.length === 1, deltas, after);
    } else if (records.length) await this.audit.recordEach(tenantId, records, unit);
    return outcomes.map((outcome) => (outcome.ok ? { ok: true, value: outcome.value.result } : outcome));
  }

  /**
   * Throws if one of `deltas`, counted in order up to `after` (the count with all of them added), passes the
   * quota: QUOTA_EXCEEDED for a sync alone, {@link WriteApart} for a group (counted one at a time, each its own
   * answer). Either way the transaction rolls back.
   */
  private checkQuota(alone: boolean, deltas: number[], after: number): void {
    const total = deltas.reduce((a, b) => a + b, 0);
    const limit = this.config.fleetMaxAgentsPerTenant;
    let count = after - total;
    for (const delta of deltas) {
      count += delta;
      if (delta <= 0 || count <= limit) continue;
      if (!alone) throw new WriteApart('over the quota');
      throw quotaExceeded(limit, after - total, total);
    }
  }

  /**
   * The idempotency keys and enrollments of a group's syncs, locked in one statement and one order; returns the
   * enrollments as that statement read them, before the locks (see `FleetSyncTransaction.lockGroup`).
   */
  private lockGroup(tx: FleetSyncTransaction, syncs: PreparedSync[]): Promise<Map<string, Enrollment>> {
    return tx.lockGroup(
      IDEMPOTENCY_SCOPE,
      syncs.flatMap((s) => (s.idempotencyKey ? [s.idempotencyKey] : [])),
      syncs.map((s) => s.endpoint.source_id),
    );
  }

  /**
   * A group of syncs of distinct endpoints and keys (or a sync alone) with shared statements: the locks, with the
   * enrollments read by the same statement; the stored answers of their Idempotency-Keys, read after the locks
   * (only if some sync has a key); each sync replayed, refused (an outcome of its own, nothing written) or
   * admitted; then one statement that checks every enrollment decided on is still as read and writes the admitted
   * syncs' credentials, enrollments and inventories; new upstreams named, keys stored. Their agents are counted
   * by {@link append}, with their audit records.
   *
   * Throws {@link WriteApart} when an enrollment changed before its lock was taken (nothing was written), or when
   * a group (not a sync alone, whose error is its own answer) cannot keep every sync's answer its own.
   */
  private async writeTogether(
    tenantId: string,
    syncs: PreparedSync[],
    unit: Tx,
  ): Promise<Outcome<Written>[]> {
    const tx = this.repository.within(unit, tenantId);
    const enrollments = await this.lockGroup(tx, syncs);
    const keys = syncs.flatMap((s) => (s.idempotencyKey ? [s.idempotencyKey] : []));
    const earlier = keys.length ? await tx.findIdempotentMany(IDEMPOTENCY_SCOPE, keys) : new Map();
    const outcomes: Outcome<Written>[] = new Array(syncs.length);
    const admitted: { i: number; admission: Admission }[] = [];
    const decided: DecidedOn[] = [];
    for (const [i, sync] of syncs.entries()) {
      const stored = sync.idempotencyKey ? earlier.get(sync.idempotencyKey) : undefined;
      if (stored) {
        outcomes[i] = attempt(() => replayed(stored, sync.requestHash));
        continue;
      }
      const sourceId = sync.endpoint.source_id;
      const enrollment = enrollments.get(sourceId);
      decided.push({
        source_id: sourceId,
        state: enrollment?.state ?? null,
        key_id: enrollment?.key_id ?? null,
      });
      try {
        admitted.push({
          i,
          admission: await this.enrollment.admitFound(sync.principal, sourceId, enrollment),
        });
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    }
    if (decided.length === 0) return outcomes;
    try {
      const { stale, counts, unregistered } = await tx.writeSyncs(
        admitted.map(({ i, admission }) => ({ ...syncs[i], credential: admission.credential?.row })),
        decided,
      );
      if (stale) throw new WriteApart('an enrollment changed before its lock');
      if (admitted.length === 0) return outcomes;
      await tx.nameUpstreams(unregistered, syncs[admitted[0].i].now);
      const written = admitted.map(({ i, admission }, n) => writtenBy(syncs[i], admission, counts[n]));
      await tx.saveIdempotentMany(
        IDEMPOTENCY_SCOPE,
        admitted.flatMap(({ i }, n) => {
          const { idempotencyKey: key, requestHash } = syncs[i];
          return key ? [{ key, requestHash, response: written[n].stored }] : [];
        }),
      );
      admitted.forEach(({ i }, n) => (outcomes[i] = { ok: true, value: written[n] }));
      return outcomes;
    } catch (error) {
      throw syncs.length > 1 && !(error instanceof WriteApart) ? new WriteApart(error) : error;
    }
  }

  /**
   * The syncs of a group, in order, each in a savepoint kept until the group's agent count is known (the group's
   * locks are held already); then that count in one statement. The tenant's agent-count row is locked from there
   * to commit, once per group rather than once per sync. If a sync of the group would pass the quota, counted in
   * order, everything from the first kept savepoint is undone and written again one sync at a time with its own
   * count (as a sync alone is): what lands is exactly what would land if the syncs came one after the other.
   */
  private async writeApart(tenantId: string, syncs: PreparedSync[], unit: Tx): Promise<Outcome<Written>[]> {
    const outcomes: Outcome<Written>[] = [];
    for (const [i, sync] of syncs.entries()) {
      outcomes.push(
        await this.transactions.attemptKept(unit, `sync_${i}`, (tx) => this.write(sync, tx, false)),
      );
    }
    const first = outcomes.findIndex((outcome) => outcome.ok);
    if (first < 0) return outcomes;
    const deltas = outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value.added] : []));
    if (await this.countFits(tenantId, deltas, unit)) {
      await this.transactions.release(unit, `sync_${first}`);
      return outcomes;
    }
    await this.transactions.rollbackTo(unit, `sync_${first}`);
    // One sync at a time now locks the agent count and then goes on to the next sync, which may name upstreams.
    // Every other transaction takes the naming lock before the count (a sync names, then counts; a group's
    // syncs name, then the group counts), so take it here first: lock order, not a deadlock.
    await this.repository.within(unit, tenantId).lockUpstreamNaming();
    for (let i = first; i < syncs.length; i++) {
      outcomes[i] = await this.transactions.attempt(unit, (tx) => this.write(syncs[i], tx, true));
    }
    return outcomes;
  }

  /** Adds the group's agents to the count; false if one of them, counted in order, would pass the quota. */
  private async countFits(tenantId: string, deltas: number[], unit: Tx): Promise<boolean> {
    if (deltas.every((delta) => delta === 0)) return true;
    const total = deltas.reduce((a, b) => a + b, 0);
    let count = (await this.repository.within(unit, tenantId).addAgents(total)) - total;
    for (const delta of deltas) {
      count += delta;
      if (delta > 0 && count > this.config.fleetMaxAgentsPerTenant) return false;
    }
    return true;
  }

  /** Adds one sync's agents to the count, or throws QUOTA_EXCEEDED (and the transaction must roll back). */
  private async countOne(tx: FleetSyncTransaction, { inserted, removed }: AgentCounts): Promise<void> {
    // A sync that adds and removes no agent (the steady state) leaves the count, and its row lock, alone.
    if (inserted === removed) return;
    const total = await tx.addAgents(inserted - removed);
    const limit = this.config.fleetMaxAgentsPerTenant;
    if (inserted > removed && total > limit) {
      throw quotaExceeded(limit, total - (inserted - removed), inserted - removed);
    }
  }

  /**
   * One sync's writes, in a savepoint of the group's transaction, which holds its locks already. `count`: it adds
   * its agents to the tenant's count and checks the quota itself (else the group does, for all at once).
   */
  private async write(sync: PreparedSync, unit: Tx, count: boolean): Promise<Written> {
    const { principal, idempotencyKey, requestHash, now, endpoint } = sync;
    const tx = this.repository.within(unit, principal.tenantId);
    if (idempotencyKey) {
      const earlier = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
      if (earlier) return replayed(earlier, requestHash);
    }
    const admission = await this.enrollment.admit(principal, endpoint.source_id, unit, true);
    const { enrollment } = admission;
    const {
      counts: [counts],
      unregistered,
    } = await tx.writeSyncs(
      [{ ...sync, credential: admission.credential?.row }],
      // Read under its lock just now: never stale.
      [
        {
          source_id: endpoint.source_id,
          state: enrollment?.state ?? null,
          key_id: enrollment?.key_id ?? null,
        },
      ],
    );
    await tx.nameUpstreams(unregistered, now);
    const written = writtenBy(sync, admission, counts);
    if (idempotencyKey)
      await tx.saveIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey, requestHash, written.stored);
    // Then the quota, the last fleet write: rolling back here undoes the whole sync. In a group, the caller
    // counts the group's syncs at once.
    if (count) await this.countOne(tx, counts);
    return written;
  }
}

function quotaExceeded(limit: number, current: number, adding: number): DomainError {
  return new DomainError(
    'QUOTA_EXCEEDED',
    `fleet agent quota exceeded: the tenant has ${current} of ${limit} agents and this sync would add ${adding}`,
    { quota: 'fleet_agents', limit, current, adding },
  );
}
