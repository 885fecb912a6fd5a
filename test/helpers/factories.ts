import type { INestApplicationContext } from '@nestjs/common';
import type { CreatedApiKey, Role } from '../../libs/contracts/src/index.js';
import { systemPrincipal } from '../../src/core/auth/principal.js';
import { randomUUID } from 'node:crypto';
import { ApiKeysRepository } from '../../src/modules/auth/api-keys.repository.js';
import { ApiKeysService } from '../../src/modules/auth/api-keys.service.js';
import { generateSecret, hashSecret } from '../../src/modules/auth/key-secret.js';
import { TenantsService } from '../../src/modules/tenants/tenants.service.js';

let counter = 0;

/** Creates a tenant through the real service. */
export async function createTenant(
  app: INestApplicationContext,
  id = `t${Date.now().toString(36)}${counter++}`,
) {
  await app.get(TenantsService).create(systemPrincipal(id, 'test'), { id });
  return id;
}

/** Creates a key through the real service; returns the raw key and its id. */
export async function createKey(
  app: INestApplicationContext,
  tenantId: string,
  role: Role,
  options: { expires_in?: string; name?: string } = {},
): Promise<{ raw: string; id: string; created: CreatedApiKey }> {
  const created = await app
    .get(ApiKeysService)
    .create(systemPrincipal(tenantId, 'test'), { role, ...options });
  return { raw: created.raw_key, id: created.key.id, created };
}

export const bearer = (raw: string) => ({ authorization: `Bearer ${raw}` });

/**
 * A key inserted straight into the table, without its `api_key.created` audit record: for ledger tests whose
 * expected sequence numbers were written for one key per tenant, and which need a second one (a runtime writer).
 */
export async function createUnauditedKey(app: INestApplicationContext, tenantId: string, role: Role) {
  const secret = generateSecret();
  await app.get(ApiKeysRepository).insert(tenantId, {
    id: randomUUID(),
    name: `${role}-writer`,
    role,
    lookupPrefix: secret.lookupPrefix,
    secretHash: await hashSecret(secret.raw),
    createdAt: new Date(),
    createdBy: 'test',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    replacedBy: null,
    overlapUntil: null,
    sourceId: null,
  });
  return secret.raw;
}
