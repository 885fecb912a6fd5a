import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SignedCheckpoint } from '../../../libs/contracts/src/index.js';
import { toCheckpoint, type CheckpointRow } from './audit.repository.js';

/** SQL of the audit witness: which signed checkpoints each sink has received, and what the chain says now. */
@Injectable()
export class AuditWitnessRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Checkpoints (all tenants) the sink has not received yet, oldest first per tenant. */
  async pending(sink: string, limit: number): Promise<SignedCheckpoint[]> {
    const rows: CheckpointRow[] = await this.dataSource.query(
      `SELECT c.* FROM audit_checkpoints c
         LEFT JOIN audit_witness_progress p ON p.sink = $1 AND p.tenant_id = c.tenant_id
        WHERE c.seq > coalesce(p.seq, 0)
        ORDER BY c.tenant_id, c.seq LIMIT $2`,
      [sink, limit],
    );
    return rows.map(toCheckpoint);
  }

  async advance(sink: string, tenantId: string, seq: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_witness_progress (sink, tenant_id, seq) VALUES ($1, $2, $3)
       ON CONFLICT (sink, tenant_id) DO UPDATE SET seq = GREATEST(audit_witness_progress.seq, EXCLUDED.seq)`,
      [sink, tenantId, seq],
    );
  }

  /** The stored hash of entry `seq`, the head's seq and the retention anchor: what a witness is compared with. */
  async chainAt(
    tenantId: string,
    seq: number,
  ): Promise<{ entryHash: string | null; headSeq: number; anchorSeq: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT hash FROM audit_entries WHERE tenant_id = $1 AND seq = $2) AS entry_hash,
              (SELECT greatest(coalesce(max(seq), 0), coalesce((SELECT seq FROM audit_heads WHERE tenant_id = $1), 0))
                 FROM audit_entries WHERE tenant_id = $1) AS head_seq,
              coalesce((SELECT anchor_seq FROM audit_heads WHERE tenant_id = $1), 0) AS anchor_seq`,
      [tenantId, seq],
    )) as Array<{ entry_hash: string | null; head_seq: string; anchor_seq: string }>;
    return { entryHash: row.entry_hash, headSeq: Number(row.head_seq), anchorSeq: Number(row.anchor_seq) };
  }
}
