import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FleetSyncResult } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { GroupCommit, type Outcome } from '../../core/database/group-commit.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { conflict, DomainError } from '../../core/errors/domain-error.js';
import { AuditService, type AuditAction } from '../audit/audit.service.js';
import type { FleetSyncDto } from './dto/fleet-sync.dto.js';
import { FleetEnrollmentService, PushRefused } from './fleet-enrollment.service.js';
import { syncRows, type SyncRows } from './fleet-sync.rows.js';
import { FleetSyncRepository } from './fleet-sync.repository.js';

const IDEMPOTENCY_SCOPE = 'fleet.sync';

/**
 * At most this many syncs share one commit. Each writes in a savepoint of its own, a subtransaction: PostgreSQL
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
 * How a sync is written: `locked`, its advisory locks are held already (a group's, `FleetSyncTransaction.lockGroup`); `count`,
 * it adds its agents to the tenant's count and checks the quota itself (else the group does, for all at once).
 */
interface WriteMode {
  locked: boolean;
  count: boolean;
}
const ALONE: WriteMode = { locked: false, count: true };
const GROUPED: WriteMode = { locked: true, count: false };
const GROUPED_COUNTED: WriteMode = { locked: true, count: true };

/** A push checked and shaped outside any transaction, waiting for its tenant's commit. */
interface PreparedSync extends SyncRows {
  principal: Principal;
  idempotencyKey?: string;
  requestHash: string;
  now: Date;
}

/** What a sync wrote: its answer, the audit actions to append for it (none for a replay), agents added. */
interface Written {
  result: FleetSyncResult;
  actions: AuditAction[];
  added: number;
}

/**
 * `POST /v1/fleet/sync`: one endpoint's whole current inventory, written whole or not at all.
 * Upsert key: (tenant, source_id, client, agent name). Agents and servers the endpoint no longer reports are
 * removed. Remote (name, url) pairs get their stable discovery names here, on the write path.
 *
 * Concurrent syncs of one tenant share commits ({@link GroupCommit}): every sync of a tenant ends on its agent
 * count and audit chain head, held to commit. Up to {@link LANES} commits run per tenant; syncs that arrive while
 * all are in flight queue, and the next lane takes them together: each in a savepoint of its own, then one count
 * of their agents, one append of their audit records and one COMMIT. A sync that fails (refused, over the quota,
 * a failed statement) rolls back to its savepoint and gets its own error; the others are untouched. Every answer
 * waits for the commit; if the commit fails, every sync of the group fails with it. A sync alone is one
 * transaction with no savepoint, as before.
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

  /** One transaction for a tenant's group of syncs; see the class comment. */
  private commitGroup(tenantId: string, syncs: PreparedSync[]): Promise<Outcome<FleetSyncResult>[]> {
    return this.transactions.run(async (unit) => {
      let outcomes: Outcome<Written>[];
      if (syncs.length === 1) {
        outcomes = [{ ok: true, value: await this.write(syncs[0], unit, ALONE) }];
      } else {
        // The group's advisory locks first, in one order, so that two groups (of two replicas) cannot deadlock.
        await this.repository.within(unit, tenantId).lockGroup(
          IDEMPOTENCY_SCOPE,
          syncs.flatMap((s) => (s.idempotencyKey ? [s.idempotencyKey] : [])),
          syncs.map((s) => s.endpoint.source_id),
        );
        outcomes = await this.writeGroup(tenantId, syncs, unit);
      }
      // Last, the group's audit records in one append: the tenant's chain head is locked from here to commit.
      const records = outcomes.flatMap((outcome, i) =>
        outcome.ok && outcome.value.actions.length
          ? [{ principal: syncs[i].principal, actions: outcome.value.actions }]
          : [],
      );
      if (records.length) await this.audit.recordEach(tenantId, records, unit);
      return outcomes.map((outcome) => (outcome.ok ? { ok: true, value: outcome.value.result } : outcome));
    });
  }

  /**
   * The syncs of a group, in order, each in a savepoint kept until the group's agent count is known; then that
   * count in one statement. The tenant's agent-count row is locked from there to commit, once per group rather
   * than once per sync. If a sync of the group would pass the quota, counted in order, everything from the first
   * kept savepoint is undone and written again one sync at a time with its own count (as a sync alone is): what
   * lands is exactly what would land if the syncs came one after the other.
   */
  private async writeGroup(tenantId: string, syncs: PreparedSync[], unit: Tx): Promise<Outcome<Written>[]> {
    const outcomes: Outcome<Written>[] = [];
    for (const [i, sync] of syncs.entries()) {
      outcomes.push(
        await this.transactions.attemptKept(unit, `sync_${i}`, (tx) => this.write(sync, tx, GROUPED)),
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
      outcomes[i] = await this.transactions.attempt(unit, (tx) => this.write(syncs[i], tx, GROUPED_COUNTED));
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

  /** One sync's writes, in the group's transaction. */
  private async write(sync: PreparedSync, unit: Tx, mode: WriteMode): Promise<Written> {
    const { principal, idempotencyKey, requestHash, now, endpoint, agents, servers, upstreams } = sync;
    const tx = this.repository.within(unit, principal.tenantId);
    if (idempotencyKey) {
      const earlier = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
      if (earlier) return { result: replay(earlier, requestHash), actions: [], added: 0 };
      // Concurrent retries with one key: the first claims it, the others wait here and then replay. (In a
      // group the key was locked before the read above.)
      if (!mode.locked) {
        await tx.lockIdempotencyKey(IDEMPOTENCY_SCOPE, idempotencyKey);
        const raced = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
        if (raced) return { result: replay(raced, requestHash), actions: [], added: 0 };
      }
    }
    const { credential, enrolled } = await this.enrollment.admit(
      principal,
      endpoint.source_id,
      unit,
      mode.locked,
    );

    const { inserted, removed, unregistered } = await tx.writeInventory(
      endpoint,
      agents,
      servers,
      upstreams,
      now,
    );
    await tx.nameUpstreams(unregistered, now);

    const result: FleetSyncResult = {
      source_id: endpoint.source_id,
      synced: agents.length,
      new: inserted,
      updated: agents.length - inserted,
    };
    if (idempotencyKey) await tx.saveIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey, requestHash, result);
    // Then the quota, the last fleet write: rolling back here undoes the whole sync. In a group, the caller
    // counts the group's syncs at once. A sync that adds and removes no agent (the steady state) leaves the
    // count, and its row lock, alone.
    const total = inserted === removed || !mode.count ? 0 : await tx.addAgents(inserted - removed);
    const limit = this.config.fleetMaxAgentsPerTenant;
    if (mode.count && inserted > removed && total > limit) {
      const current = total - (inserted - removed);
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `fleet agent quota exceeded: the tenant has ${current} of ${limit} agents and this sync would add ${inserted - removed}`,
        { quota: 'fleet_agents', limit, current, adding: inserted - removed },
      );
    }
    // Recorded by the caller, as the group's last write, with the enrollment's record when this push enrolled.
    const synced: AuditAction = {
      type: 'fleet.synced',
      resource_type: 'fleet_endpoint',
      resource_id: endpoint.source_id,
      details: {
        agents: result.synced,
        new: result.new,
        updated: result.updated,
        removed,
        servers: servers.length,
      },
    };
    // Shown once: never part of the stored idempotent answer.
    return {
      result: credential ? { ...result, endpoint_credential: credential } : result,
      actions: enrolled ? [enrolled, synced] : [synced],
      added: inserted - removed,
    };
  }
}

function replay(
  earlier: { requestHash: string; response: FleetSyncResult },
  requestHash: string,
): FleetSyncResult {
  if (earlier.requestHash !== requestHash) {
    throw conflict('this Idempotency-Key was already used with a different request body');
  }
  return { ...earlier.response, idempotent_replay: true };
}
