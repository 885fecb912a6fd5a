import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../core/database/transactions.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';

export interface KeyPage {
  limit: number;
  /** Exclusive position from the previous page: (created_at, id) descending. */
  after?: { createdAt: Date; id: string };
}

/**
 * SQL for API keys. Every method but the authentication lookup is scoped by a required tenant id; writes take
 * the caller's transaction (`tx`) so that a key change and its audit record commit together.
 */
@Injectable()
export class ApiKeysRepository {
  private readonly keys: Repository<ApiKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  async insert(tenantId: string, key: Omit<ApiKeyEntity, 'tenantId'>, tx?: Tx): Promise<ApiKeyEntity> {
    const row = this.keys.create({ ...key, tenantId });
    await managerOf(this.dataSource, tx).getRepository(ApiKeyEntity).insert(row);
    return row;
  }

  findById(tenantId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOneBy({ tenantId, id });
  }

  list(tenantId: string, page: KeyPage): Promise<ApiKeyEntity[]> {
    const query = this.keys
      .createQueryBuilder('k')
      .where('k.tenant_id = :tenantId', { tenantId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(page.limit);
    if (page.after) {
      query.andWhere('(k.created_at, k.id) < (:createdAt, :id)', page.after);
    }
    return query.getMany();
  }

  /**
   * Sets revoked_at once; returns the row as it is afterwards and whether this call revoked it, or null when the
   * key is not in this tenant.
   */
  async revoke(
    tenantId: string,
    id: string,
    at: Date,
    tx?: Tx,
  ): Promise<{ key: ApiKeyEntity; changed: boolean } | null> {
    const keys = managerOf(this.dataSource, tx).getRepository(ApiKeyEntity);
    const result = await keys.update({ tenantId, id, revokedAt: IsNull() }, { revokedAt: at });
    const key = await keys.findOneBy({ tenantId, id });
    return key ? { key, changed: (result.affected ?? 0) > 0 } : null;
  }

  /**
   * Inserts the replacement and retires the old key, inside the caller's transaction. The old row is locked
   * first, so two concurrent rotations of one key cannot both succeed. Returns null when the old key is not in
   * this tenant, 'retired' when it was already revoked or replaced.
   */
  async rotate(
    tenantId: string,
    oldId: string,
    replacement: Omit<ApiKeyEntity, 'tenantId'>,
    retire: { revokedAt: Date | null; overlapUntil: Date | null },
    tx: Tx,
  ): Promise<{ old: ApiKeyEntity; replacement: ApiKeyEntity } | null | 'retired'> {
    const keys = tx.manager.getRepository(ApiKeyEntity);
    const old = await keys.findOne({ where: { tenantId, id: oldId }, lock: { mode: 'pessimistic_write' } });
    if (!old) return null;
    if (old.revokedAt || old.replacedBy) return 'retired';
    const row = keys.create({ ...replacement, tenantId });
    await keys.insert(row);
    await keys.update(
      { tenantId, id: oldId },
      { replacedBy: row.id, overlapUntil: retire.overlapUntil, revokedAt: retire.revokedAt },
    );
    return { old: { ...old, replacedBy: row.id, ...retire }, replacement: row };
  }

  /**
   * Candidates for authentication. This is the one lookup that is not tenant-scoped, because the tenant is
   * what authentication establishes; the caller must verify the secret hash before trusting any row.
   */
  findByLookupPrefix(lookupPrefix: string): Promise<ApiKeyEntity[]> {
    return this.keys.findBy({ lookupPrefix });
  }

  /** Candidates of one tenant only (introspection, which must learn nothing of other tenants' keys). */
  findByLookupPrefixInTenant(tenantId: string, lookupPrefix: string): Promise<ApiKeyEntity[]> {
    return this.keys.findBy({ tenantId, lookupPrefix });
  }

  async touchLastUsed(tenantId: string, id: string, at: Date): Promise<void> {
    await this.keys.update({ tenantId, id }, { lastUsedAt: at });
  }
}
