import { isRole, ROLES, type ApiKeyView } from '../../libs/contracts/src/index.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';
import { printJson, UsageError, withControlPlane, type CliContext } from './context.js';

async function requireTenant({ app }: CliContext, tenant: string): Promise<void> {
  if (!(await app.get(TenantsService).exists(tenant))) {
    throw new Error(`tenant "${tenant}" does not exist: create it with agent-bom tenants create ${tenant}`);
  }
}

/** Prints the raw key alone on stdout (so `KEY=$(agent-bom keys create …)` works) and the rest on stderr. */
export function createKey(options: {
  tenant: string;
  role: string;
  name?: string;
  expiresIn?: string;
  json?: boolean;
}): Promise<number> {
  if (!isRole(options.role)) throw new UsageError(`--role must be one of: ${ROLES.join(', ')}`);
  const role = options.role;
  return withControlPlane(options, async (context) => {
    await requireTenant(context, options.tenant);
    const created = await context.app
      .get(ApiKeysService)
      .create(context.principal(options.tenant), { role, name: options.name, expires_in: options.expiresIn });
    if (options.json) {
      printJson(created);
    } else {
      process.stdout.write(`${created.raw_key}\n`);
      process.stderr.write(
        `created ${role} key ${created.key.id} for tenant ${options.tenant}` +
          (created.key.expires_at ? `, expires ${created.key.expires_at}` : '') +
          '\nthe key is shown once; store it now\n',
      );
    }
    return 0;
  });
}

export function listKeys(options: { tenant: string; json?: boolean }): Promise<number> {
  return withControlPlane(options, async (context) => {
    await requireTenant(context, options.tenant);
    const service = context.app.get(ApiKeysService);
    const keys: ApiKeyView[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list(context.principal(options.tenant), { limit: 200, cursor });
      keys.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    if (options.json) printJson(keys);
    else {
      for (const k of keys) {
        process.stdout.write(`${k.id}\t${k.role}\t${k.status}\t${k.name}\t${k.prefix}…\t${k.created_at}\n`);
      }
    }
    return 0;
  });
}

export function revokeKey(keyId: string, options: { tenant: string; json?: boolean }): Promise<number> {
  if (!/^[0-9a-f-]{36}$/i.test(keyId))
    throw new UsageError('key id must be a UUID (see agent-bom keys list)');
  return withControlPlane(options, async (context) => {
    await requireTenant(context, options.tenant);
    const key = await context.app.get(ApiKeysService).revoke(context.principal(options.tenant), keyId);
    if (options.json) printJson(key);
    else process.stdout.write(`revoked key ${key.id} (${key.name})\n`);
    return 0;
  });
}
