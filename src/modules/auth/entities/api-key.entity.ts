import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../../../../libs/contracts/src/index.js';

/** A stored API key. Only a slow hash of the secret is kept; the raw key is never stored. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  role: Role;

  @Column({ name: 'lookup_prefix', type: 'text' })
  lookupPrefix: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'replaced_by', type: 'uuid', nullable: true })
  replacedBy: string | null;

  @Column({ name: 'overlap_until', type: 'timestamptz', nullable: true })
  overlapUntil: Date | null;

  /** Endpoint credentials only: the fleet source id the key is bound to (null for every other key). */
  @Column({ name: 'source_id', type: 'text', nullable: true })
  sourceId: string | null;
}
