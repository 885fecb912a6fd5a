import { Injectable } from '@nestjs/common';
import type { FleetEnrollmentView } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { DomainError, notFound } from '../../core/errors/domain-error.js';
import { AuditService, type AuditAction } from '../audit/audit.service.js';
import { ApiKeysService, type EndpointCredential } from '../auth/api-keys.service.js';
import {
  FleetEnrollmentRepository,
  type Enrollment,
  type EnrollmentState,
} from './fleet-enrollment.repository.js';

/** Why a push was refused; recorded in the audit chain as `fleet.push_refused`. */
export class PushRefused extends DomainError {
  constructor(
    readonly sourceId: string,
    readonly reason: 'other_endpoint' | 'enrolled' | 'revoked',
    message: string,
  ) {
    super('FORBIDDEN', message, { reason, source_id: sourceId });
  }
}

/**
 * What {@link FleetEnrollmentService.admit} lets through: the enrollment it was admitted on and, for a first push,
 * the credential to store and show once.
 */
export interface Admission {
  enrollment: Enrollment | undefined;
  credential?: EndpointCredential;
  enrolled?: AuditAction;
}

/**
 * Whether `principal` may push for `sourceId`, given its enrollment as read under the enrollment's lock: returns if
 * so, else throws {@link PushRefused}. An endpoint credential pushes only while it is the enrollment's active key;
 * another key only for an endpoint not enrolled yet or opened for re-enrollment.
 */
function refuseUnlessAdmitted(
  principal: Principal,
  sourceId: string,
  enrollment: Enrollment | undefined,
): void {
  if (principal.sourceId) {
    if (enrollment?.state === 'enrolled' && enrollment.key_id === principal.keyId) return;
    throw new PushRefused(sourceId, 'revoked', `the enrollment of "${sourceId}" is no longer active`);
  }
  if (enrollment?.state === 'enrolled') {
    throw new PushRefused(
      sourceId,
      'enrolled',
      `source_id "${sourceId}" is enrolled: only its endpoint credential may push for it (an admin can re-enroll it)`,
    );
  }
  if (enrollment?.state === 'revoked') {
    throw new PushRefused(
      sourceId,
      'revoked',
      `source_id "${sourceId}" was revoked by an admin; it can push again only after re-enrollment`,
    );
  }
}

/**
 * Endpoint enrollment, as fleet managers do it (osquery/Fleet: a shared enroll secret, then a per-host node key).
 *
 * Guarantees:
 * - the first push for a `source_id`, made with a shared `fleet-push` key, enrolls the endpoint and mints its
 *   credential (a `fleet-push` key bound to that `source_id`), returned once in that push's answer;
 * - an endpoint credential pushes only for its own `source_id`;
 * - a push for an enrolled (or revoked) `source_id` with any other credential is refused (403) and audited;
 * - an admin revokes an endpoint (its credential stops working at once; nobody may push for it) or opens it for
 *   re-enrollment (the next push with a shared key enrolls it again, with a new credential).
 */
@Injectable()
export class FleetEnrollmentService {
  constructor(
    private readonly repository: FleetEnrollmentRepository,
    private readonly keys: ApiKeysService,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  /** Refuses an endpoint credential pushing for another endpoint; cheap, before any transaction. */
  checkBinding(principal: Principal, sourceId: string): void {
    if (principal.sourceId && principal.sourceId !== sourceId) {
      throw new PushRefused(
        sourceId,
        'other_endpoint',
        `this endpoint credential belongs to source_id "${principal.sourceId}" and cannot push for "${sourceId}"`,
      );
    }
  }

  /**
   * Inside the sync's transaction: lets the push through, enrolling the endpoint when this is its first push
   * (then returns the new credential, minted but not stored), or throws {@link PushRefused}.
   *
   * Nothing is written here: the caller stores the credential and the enrollment with the endpoint's inventory, in
   * one statement (`FleetSyncTransaction.writeSyncs`), and records the returned `fleet.endpoint_enrolled` action,
   * before its own, as the last write of the same transaction ({@link AuditService.recordEach}), so the tenant's
   * chain head is locked only at the end of the sync rather than for the whole of it.
   *
   * `locked`: the caller already holds the enrollment's lock in `tx` (a group commit takes its syncs' locks up
   * front), so it is not asked for again.
   */
  async admit(principal: Principal, sourceId: string, tx: Tx, locked = false): Promise<Admission> {
    this.checkBinding(principal, sourceId); // refused before the enrollment's lock is asked for
    return this.admitFound(principal, sourceId, await this.enrollmentOf(principal, sourceId, tx, locked));
  }

  /**
   * {@link admit} for a push whose enrollment the caller read itself, under its lock in the same transaction
   * (a group commit reads its syncs' enrollments with their locks: `FleetSyncTransaction.lockGroup`).
   */
  async admitFound(
    principal: Principal,
    sourceId: string,
    enrollment: Enrollment | undefined,
  ): Promise<Admission> {
    this.checkBinding(principal, sourceId);
    refuseUnlessAdmitted(principal, sourceId, enrollment);
    if (principal.sourceId) return { enrollment };
    const now = new Date();
    const credential = await this.keys.mintEndpointCredential(principal, sourceId, now);
    return {
      enrollment,
      credential,
      enrolled: {
        type: 'fleet.endpoint_enrolled',
        resource_type: 'fleet_endpoint',
        resource_id: sourceId,
        details: { key_id: credential.row.id, reenrolled: enrollment?.state === 'reenroll' },
      },
    };
  }

  /**
   * A scan report for `sourceId` (`POST /v1/results/push`), inside its transaction. An enrolled endpoint's reports
   * come only from its endpoint credential, as its syncs do: otherwise any fleet-push key could resolve another
   * laptop's findings by pushing an empty report for it. A report never enrolls an endpoint (`agents` does).
   */
  async admitReport(principal: Principal, sourceId: string, tx: Tx): Promise<void> {
    await this.admitted(principal, sourceId, tx);
  }

  /** The checks shared by syncs and reports; returns the (locked) enrollment row when the push may go on. */
  private async admitted(principal: Principal, sourceId: string, tx: Tx) {
    this.checkBinding(principal, sourceId);
    const enrollment = await this.enrollmentOf(principal, sourceId, tx, false);
    refuseUnlessAdmitted(principal, sourceId, enrollment);
    return enrollment;
  }

  /** The enrollment row, locked in `tx` unless the caller already holds its lock (`locked`). */
  private enrollmentOf(principal: Principal, sourceId: string, tx: Tx, locked: boolean) {
    return locked
      ? this.repository.find(principal.tenantId, sourceId, tx)
      : this.repository.lock(principal.tenantId, sourceId, tx);
  }

  /** Records a refused push in its own transaction (the refused sync's own was rolled back). */
  async recordRefusal(principal: Principal, refusal: PushRefused): Promise<void> {
    await this.audit.record(principal, {
      type: 'fleet.push_refused',
      resource_type: 'fleet_endpoint',
      resource_id: refusal.sourceId,
      details: {
        reason: refusal.reason,
        key_id: principal.keyId,
        bound_source_id: principal.sourceId ?? null,
      },
    });
  }

  list(principal: Principal, query: { limit?: number; after?: string }): Promise<FleetEnrollmentView[]> {
    return this.repository.list(principal.tenantId, { limit: query.limit ?? 100, after: query.after });
  }

  /** Revokes the endpoint: its credential stops at once and nobody may push for it until re-enrolled. */
  revoke(principal: Principal, sourceId: string): Promise<FleetEnrollmentView> {
    return this.change(principal, sourceId, 'revoked', 'fleet.endpoint_revoked');
  }

  /** Retires the credential and lets the next push with a shared fleet-push key enroll the endpoint anew. */
  reenroll(principal: Principal, sourceId: string): Promise<FleetEnrollmentView> {
    return this.change(principal, sourceId, 'reenroll', 'fleet.endpoint_reenroll_opened');
  }

  private async change(
    principal: Principal,
    sourceId: string,
    state: EnrollmentState,
    type: string,
  ): Promise<FleetEnrollmentView> {
    return this.transactions.run(async (tx) => {
      const enrollment = await this.repository.lock(principal.tenantId, sourceId, tx);
      if (!enrollment) throw notFound('enrolled endpoint');
      if (enrollment.key_id) await this.keys.revokeWithin(principal.tenantId, enrollment.key_id, tx);
      await this.repository.setState(principal.tenantId, sourceId, state, principal.subject, new Date(), tx);
      await this.audit.record(
        principal,
        {
          type,
          resource_type: 'fleet_endpoint',
          resource_id: sourceId,
          details: { previous_state: enrollment.state, key_id: enrollment.key_id },
        },
        tx,
      );
      const [view] = await this.repository.list(principal.tenantId, { limit: 1, only: sourceId }, tx);
      return view;
    });
  }
}
