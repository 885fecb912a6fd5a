import { TenantsService } from '../../src/modules/tenants/tenants.service.js';
import { printJson, withControlPlane } from './context.js';

export function createTenant(id: string, options: { name?: string; json?: boolean }): Promise<number> {
  return withControlPlane(options, async ({ app, principal }) => {
    const { tenant } = await app.get(TenantsService).create(principal(id), { id, name: options.name });
    if (options.json) printJson(tenant);
    else process.stdout.write(`created tenant ${tenant.id}\n`);
    return 0;
  });
}

export function listTenants(options: { json?: boolean }): Promise<number> {
  return withControlPlane(options, async ({ app, principal }) => {
    const tenants = [];
    const service = app.get(TenantsService);
    let cursor: string | undefined;
    do {
      const page = await service.list(principal('system'), { limit: 500, cursor });
      tenants.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    if (options.json) printJson(tenants);
    else for (const t of tenants) process.stdout.write(`${t.id}\t${t.name}\t${t.created_at}\n`);
    return 0;
  });
}
