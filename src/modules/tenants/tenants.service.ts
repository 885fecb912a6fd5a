import { Injectable } from '@nestjs/common';
import { tenantIdProblem, type CreatedApiKey, type TenantView } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions } from '../../core/database/transactions.js';
import { conflict, invalid } from '../../core/errors/domain-error.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiKeysService } from '../auth/api-keys.service.js';
import type { TenantEntity } from './entities/tenant.entity.js';
import { TenantsRepository } from './tenants.repository.js';

export interface CreateTenantInput {
  id: string;
  name?: string;
  create_admin_key?: boolean;
}

@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly keys: ApiKeysService,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Creates a tenant; with `create_admin_key`, also its first admin key (returned once). One transaction: the
   * tenant, `tenant.created` as the first entry of its own chain, and the key with its `api_key.created`.
   */
  async create(
    principal: Principal,
    input: CreateTenantInput,
  ): Promise<{ tenant: TenantView; admin_key?: CreatedApiKey }> {
    const problem = tenantIdProblem(input.id);
    if (problem) throw invalid('id', problem);
    return this.transactions.run(async (tx) => {
      const created = await this.tenants.insertIfAbsent(
        { id: input.id, name: input.name ?? input.id, createdAt: new Date() },
        tx,
      );
      if (!created) throw conflict(`tenant "${input.id}" already exists`);
      await this.audit.recordTenantCreated(principal, { id: created.id, name: created.name }, tx);
      const tenant = toTenantView(created);
      if (!input.create_admin_key) return { tenant };
      const actingInNewTenant: Principal = { ...principal, tenantId: created.id };
      const admin_key = await this.keys.create(actingInNewTenant, { role: 'admin', name: 'first-admin' }, tx);
      return { tenant, admin_key };
    });
  }

  async list(_principal: Principal, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 100;
    const rows = await this.tenants.list(limit + 1, query.cursor);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toTenantView),
      next_cursor: rows.length > limit ? page[page.length - 1].id : null,
    };
  }

  async exists(id: string): Promise<boolean> {
    return (await this.tenants.findById(id)) !== null;
  }
}

function toTenantView(tenant: TenantEntity): TenantView {
  return { id: tenant.id, name: tenant.name, created_at: tenant.createdAt.toISOString() };
}
