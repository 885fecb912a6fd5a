import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FleetEnrollmentView } from '../../../libs/contracts/src/index.js';
import { managerOf, type Tx } from '../../core/database/transactions.js';

export type EnrollmentState = FleetEnrollmentView['state'];

export interface Enrollment {
  source_id: string;
  key_id: string | null;
  state: EnrollmentState;
}

/** SQL for endpoint enrollments. Every statement is scoped by a required tenant id. */
@Injectable()
export class FleetEnrollmentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Locks the enrollment of `sourceId` (existing or not yet) for the rest of the transaction, so two first pushes
   * of one endpoint cannot both enroll it, and returns it. (A group commit takes the same lock up front:
   * `FleetSyncTransaction.lockGroup`; keep the two keys in step.)
   */
  async lock(tenantId: string, sourceId: string, tx: Tx): Promise<Enrollment | undefined> {
    await tx.manager.query(
      `SELECT pg_advisory_xact_lock(hashtext('fleet_enroll'), hashtext($1 || chr(31) || $2))`,
      [tenantId, sourceId],
    );
    return this.find(tenantId, sourceId, tx);
  }

  /** The enrollment of `sourceId`, when the caller holds its lock already (see {@link lock}). */
  async find(tenantId: string, sourceId: string, tx: Tx): Promise<Enrollment | undefined> {
    const rows: Enrollment[] = await tx.manager.query(
      `SELECT source_id, key_id, state FROM fleet_enrollments WHERE tenant_id = $1 AND source_id = $2`,
      [tenantId, sourceId],
    );
    return rows[0];
  }

  async setState(
    tenantId: string,
    sourceId: string,
    state: EnrollmentState,
    by: string,
    at: Date,
    tx: Tx,
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE fleet_enrollments SET state = $3, changed_at = $4, changed_by = $5
        WHERE tenant_id = $1 AND source_id = $2`,
      [tenantId, sourceId, state, at, by],
    );
  }

  /** A page ordered by source id, after `after`; or the one row of `only`. */
  async list(
    tenantId: string,
    page: { limit: number; after?: string; only?: string },
    tx?: Tx,
  ): Promise<FleetEnrollmentView[]> {
    const rows: Array<Record<string, unknown>> = await managerOf(this.dataSource, tx).query(
      `SELECT n.source_id, n.state, n.key_id, n.enrolled_at, n.enrolled_by, n.changed_at, n.changed_by,
              e.hostname, e.last_synced_at
         FROM fleet_enrollments n
         LEFT JOIN fleet_endpoints e ON e.tenant_id = n.tenant_id AND e.source_id = n.source_id
        WHERE n.tenant_id = $1 AND ($2::text IS NULL OR n.source_id > $2)
          AND ($4::text IS NULL OR n.source_id = $4)
        ORDER BY n.source_id LIMIT $3`,
      [tenantId, page.after ?? null, page.limit, page.only ?? null],
    );
    const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
    return rows.map((r) => ({
      source_id: r.source_id as string,
      state: r.state as EnrollmentState,
      key_id: (r.key_id as string | null) ?? null,
      enrolled_at: iso(r.enrolled_at)!,
      enrolled_by: r.enrolled_by as string,
      changed_at: iso(r.changed_at)!,
      changed_by: r.changed_by as string,
      hostname: (r.hostname as string | null) ?? null,
      last_synced_at: iso(r.last_synced_at),
    }));
  }
}
