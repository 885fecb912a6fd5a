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

/** A push checked and shaped outside any transaction, waiting for its tenant's commit. */
interface PreparedSync extends SyncRows {
  principal: Principal;
  idempotencyKey?: string;
  requestHash: string;
  now: Date;
}

/** What a sync wrote: its answer and the audit actions to append for it (none for a replay). */
interface Written {
  result: FleetSyncResult;
  actions: AuditAction[];
}

/**
 * `POST /v1/fleet/sync`: one endpoint's whole current inventory, written whole or not at all.
 * Upsert key: (tenant, source_id, client, agent name). Agents and servers the endpoint no longer reports are
 * removed. Remote (name, url) pairs get their stable discovery names here, on the write path.
 *
 * Concurrent syncs of one tenant share a commit ({@link GroupCommit}): every sync of a tenant ends on its audit
 * chain head, held to commit, so one commit at a time runs per tenant and takes every sync that arrived while the
 * one before was in flight, each in a savepoint of its own, then one append of all their audit records and one
 * COMMIT. A sync that fails (refused, over the quota, a failed statement) rolls back to its savepoint and gets its
 * own error; the others are untouched. Every answer waits for the commit; if the commit fails, every sync of the
 * group fails with it. A sync alone is one transaction with no savepoint, as before.
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
      max: MAX_SYNCS_PER_COMMIT,
      size: () => 1,
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
      const outcomes: Outcome<Written>[] = [];
      if (syncs.length === 1) {
        outcomes.push({ ok: true, value: await this.write(syncs[0], unit) });
      } else {
        // The group's advisory locks first, in one order, so that two groups (of two replicas) cannot deadlock.
        await this.repository.within(unit, tenantId).lockGroup(
          IDEMPOTENCY_SCOPE,
          syncs.flatMap((s) => (s.idempotencyKey ? [s.idempotencyKey] : [])),
          syncs.map((s) => s.endpoint.source_id),
        );
        for (const sync of syncs)
          outcomes.push(await this.transactions.attempt(unit, (tx) => this.write(sync, tx)));
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

  /** One sync's writes, in the group's transaction. */
  private async write(sync: PreparedSync, unit: Tx): Promise<Written> {
    const { principal, idempotencyKey, requestHash, now, endpoint, agents, servers, upstreams } = sync;
    const tx = this.repository.within(unit, principal.tenantId);
    if (idempotencyKey) {
      const earlier = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
      if (earlier) return { result: replay(earlier, requestHash), actions: [] };
      // Concurrent retries with one key: the first claims it, the others wait here and then replay.
      await tx.lockIdempotencyKey(IDEMPOTENCY_SCOPE, idempotencyKey);
      const raced = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
      if (raced) return { result: replay(raced, requestHash), actions: [] };
    }
    const { credential, enrolled } = await this.enrollment.admit(principal, endpoint.source_id, unit);

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
    // Then the quota, the last fleet write: rolling back here undoes the whole sync.
    // A sync that adds and removes no agent (the steady state) leaves the count, and its row lock, alone.
    const total = inserted === removed ? 0 : await tx.addAgents(inserted - removed);
    const limit = this.config.fleetMaxAgentsPerTenant;
    if (inserted > removed && total > limit) {
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
