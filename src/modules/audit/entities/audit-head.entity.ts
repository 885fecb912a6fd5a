import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The head of a tenant's chain: the row every writer locks (`FOR UPDATE`) before appending, which serialises
 * writers across replicas. Also where retention's anchor and the checkpoint bookkeeping live.
 */
@Entity({ name: 'audit_heads' })
export class AuditHeadEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' })
  tenantId: string;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;

  /** Entries up to this seq were removed by retention; a signed anchor checkpoint sits at this seq. */
  @Column({ name: 'anchor_seq', type: 'bigint' })
  anchorSeq: string;

  @Column({ name: 'checkpointed_seq', type: 'bigint' })
  checkpointedSeq: string;

  /** When the oldest entry not yet covered by a checkpoint was written. */
  @Column({ name: 'unsigned_since', type: 'timestamptz', nullable: true })
  unsignedSince: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
