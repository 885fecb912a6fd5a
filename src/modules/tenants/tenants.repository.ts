import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../core/database/transactions.js';
import { TenantEntity } from './entities/tenant.entity.js';

/** Tenants are the one platform-level table: platform admins see them all. */
@Injectable()
export class TenantsRepository {
  private readonly tenants: Repository<TenantEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.tenants = dataSource.getRepository(TenantEntity);
  }

  /** Inserts unless the id is taken; returns null when it is. */
  async insertIfAbsent(tenant: TenantEntity, tx?: Tx): Promise<TenantEntity | null> {
    const result = await managerOf(this.dataSource, tx)
      .getRepository(TenantEntity)
      .createQueryBuilder()
      .insert()
      .values(tenant)
      .orIgnore()
      .returning(['id'])
      .execute();
    return result.raw.length === 1 ? tenant : null;
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.tenants.findOneBy({ id });
  }

  list(limit: number, afterId?: string): Promise<TenantEntity[]> {
    const query = this.tenants.createQueryBuilder('t').orderBy('t.id', 'ASC').limit(limit);
    if (afterId) query.where('t.id > :afterId', { afterId });
    return query.getMany();
  }
}
