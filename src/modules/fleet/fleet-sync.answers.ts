import type { FleetSyncResult } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import type { Outcome } from '../../core/database/group-commit.js';
import { conflict } from '../../core/errors/domain-error.js';
import type { AuditAction } from '../audit/audit.service.js';
import type { Admission } from './fleet-enrollment.service.js';
import type { AgentCounts } from './fleet-sync.repository.js';
import type { SyncRows } from './fleet-sync.rows.js';

// What a sync of the fleet write path answers from what it wrote: its HTTP answer, the answer its Idempotency-Key
// keeps, its audit actions.

/** A push checked and shaped outside any transaction, waiting for its tenant's commit. */
export interface PreparedSync extends SyncRows {
  principal: Principal;
  idempotencyKey?: string;
  requestHash: string;
  now: Date;
}

/**
 * What a sync wrote: its answer, the answer stored for its Idempotency-Key (without the credential, shown once),
 * the audit actions to append for it (none for a replay), and the agents it added (negative: removed).
 */
export interface Written {
  result: FleetSyncResult;
  stored: FleetSyncResult;
  actions: AuditAction[];
  added: number;
}

/** A sync's answer, the answer its Idempotency-Key keeps, and its audit actions, from what it wrote. */
export function writtenBy(
  sync: PreparedSync,
  { credential, enrolled }: Admission,
  counts: AgentCounts,
): Written {
  const { endpoint, agents, servers } = sync;
  const { inserted, removed } = counts;
  const result: FleetSyncResult = {
    source_id: endpoint.source_id,
    synced: agents.length,
    new: inserted,
    updated: agents.length - inserted,
  };
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
  return {
    // Shown once: never part of the stored idempotent answer.
    result: credential ? { ...result, endpoint_credential: credential.raw } : result,
    stored: result,
    actions: enrolled ? [enrolled, synced] : [synced],
    added: inserted - removed,
  };
}

/** `fn`'s value as an outcome, or the error it threw. */
export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The answer to a retry: the stored one, marked as a replay, if the body is the same; else 409. */
export function replayed(
  earlier: { requestHash: string; response: FleetSyncResult },
  requestHash: string,
): Written {
  return { result: replay(earlier, requestHash), stored: earlier.response, actions: [], added: 0 };
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
