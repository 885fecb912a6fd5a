import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { UpstreamApprovalState } from '../../../libs/contracts/src/index.js';
import { managerOf, type Tx } from '../../core/database/transactions.js';

export interface ApprovalRow {
  name: string;
  state: UpstreamApprovalState;
  reason: string | null;
  decided_by: string;
  decided_at: Date;
}

export interface AutoApproveRow {
  hosts: string[];
  updated_by: string;
  updated_at: Date;
}

/** SQL for upstream approvals and the tenant's auto-approve host list; every statement takes the tenant. */
@Injectable()
export class UpstreamApprovalRepository {
  constructor(private readonly dataSource: DataSource) {}

  async approvals(tenantId: string): Promise<Map<string, ApprovalRow>> {
    const rows: ApprovalRow[] = await this.dataSource.query(
      `SELECT name, state, reason, decided_by, decided_at FROM upstream_approvals WHERE tenant_id = $1`,
      [tenantId],
    );
    return new Map(rows.map((row) => [row.name, row]));
  }

  async approval(tenantId: string, name: string): Promise<ApprovalRow | undefined> {
    const rows: ApprovalRow[] = await this.dataSource.query(
      `SELECT name, state, reason, decided_by, decided_at FROM upstream_approvals
        WHERE tenant_id = $1 AND name = $2`,
      [tenantId, name],
    );
    return rows[0];
  }

  /** The registered URL of an assigned upstream name, or undefined when the tenant has no such upstream. */
  async registeredUrl(tenantId: string, name: string, tx?: Tx): Promise<string | undefined> {
    const rows: Array<{ url: string }> = await managerOf(this.dataSource, tx).query(
      `SELECT url FROM upstream_names WHERE tenant_id = $1 AND assigned_name = $2`,
      [tenantId, name],
    );
    return rows[0]?.url;
  }

  async setApproval(tenantId: string, row: ApprovalRow, tx: Tx): Promise<void> {
    await tx.manager.query(
      `INSERT INTO upstream_approvals (tenant_id, name, state, reason, decided_by, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, name) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
         decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at`,
      [tenantId, row.name, row.state, row.reason, row.decided_by, row.decided_at],
    );
  }

  async autoApprove(tenantId: string): Promise<AutoApproveRow | undefined> {
    const rows: AutoApproveRow[] = await this.dataSource.query(
      `SELECT hosts, updated_by, updated_at FROM upstream_auto_approve WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0];
  }

  async setAutoApprove(tenantId: string, row: AutoApproveRow, tx: Tx): Promise<void> {
    await tx.manager.query(
      `INSERT INTO upstream_auto_approve (tenant_id, hosts, updated_by, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE SET hosts = EXCLUDED.hosts, updated_by = EXCLUDED.updated_by,
         updated_at = EXCLUDED.updated_at`,
      [tenantId, row.hosts, row.updated_by, row.updated_at],
    );
  }
}
