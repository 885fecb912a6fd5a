import type { ApiKeyView } from '../../../libs/contracts/src/index.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';

/** Whether a stored key authenticates at `now`. */
export function isUsable(key: ApiKeyEntity, now: Date): boolean {
  if (key.revokedAt && key.revokedAt <= now) return false;
  if (key.expiresAt && key.expiresAt <= now) return false;
  if (key.replacedBy && (!key.overlapUntil || key.overlapUntil <= now)) return false;
  return true;
}

/** The moment after which a key stops working on its own (expiry or end of rotation overlap). */
export function notAfter(key: ApiKeyEntity): number {
  const limits = [key.expiresAt, key.overlapUntil]
    .filter((d): d is Date => d !== null)
    .map((d) => d.getTime());
  return limits.length ? Math.min(...limits) : Number.POSITIVE_INFINITY;
}

export function toApiKeyView(key: ApiKeyEntity, now = new Date()): ApiKeyView {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  let status: ApiKeyView['status'] = 'active';
  if (key.revokedAt && key.revokedAt <= now) status = 'revoked';
  else if (key.expiresAt && key.expiresAt <= now) status = 'expired';
  else if (key.replacedBy) status = isUsable(key, now) ? 'rotating' : 'revoked';
  return {
    id: key.id,
    tenant_id: key.tenantId,
    name: key.name,
    role: key.role,
    prefix: key.lookupPrefix,
    created_at: key.createdAt.toISOString(),
    created_by: key.createdBy,
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_used_at: iso(key.lastUsedAt),
    replaced_by: key.replacedBy,
    overlap_until: iso(key.overlapUntil),
    status,
  };
}
