import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CheckpointPurpose } from '../../../../libs/contracts/src/index.js';

/** A signed statement "entry `seq` of this tenant had hash `hash`" (see docs/audit.md). */
@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpointEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' })
  tenantId: string;

  @PrimaryColumn({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;

  @Column({ type: 'text' })
  purpose: CheckpointPurpose;

  /** Exactly the string that was signed (UTC ISO 8601). */
  @Column({ name: 'signed_at', type: 'text' })
  signedAt: string;

  @Column({ name: 'key_id', type: 'text' })
  keyId: string;

  @Column({ type: 'text' })
  signature: string;
}
