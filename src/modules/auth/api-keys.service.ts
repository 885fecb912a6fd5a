import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  API_KEY_MAX_ROTATION_OVERLAP_SECONDS,
  API_KEY_MAX_TTL_SECONDS,
  canGrantRole,
  parseDuration,
  type ApiKeyView,
  type CreatedApiKey,
  type Role,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { Transactions, type Tx } from '../../core/database/transactions.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors/domain-error.js';
import { timeIdCursor } from '../../core/http/cursor.js';
import { AuditService } from '../audit/audit.service.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { toApiKeyView } from './api-keys.mapper.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';
import { generateSecret, hashSecret } from './key-secret.js';
import { KeyCache } from './key-cache.js';

/**
 * A minted endpoint credential: the raw key (shown once, in the enrolling push's answer) and the `api_keys` row to
 * store (snake_case columns; every column not named is NULL).
 */
export interface EndpointCredential {
  raw: string;
  row: {
    id: string;
    name: string;
    role: Role;
    lookup_prefix: string;
    secret_hash: string;
    created_at: Date;
    created_by: string;
    source_id: string;
  };
}

export interface CreateKeyInput {
  role: Role;
  name?: string;
  expires_in?: string;
}

/**
 * Key management for a principal's own tenant. Every change (create, revoke, rotate) is recorded in the
 * tenant's audit chain in the same transaction: no change without its record, no record without its change.
 * The record names the key by id, role and name; never the key, its prefix or its hash.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly cache: KeyCache,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
  ) {}

  /** `tx`: join the caller's unit of work (tenant creation mints the first admin key inside its own). */
  async create(principal: Principal, input: CreateKeyInput, tx?: Tx): Promise<CreatedApiKey> {
    if (!canGrantRole(principal.role, input.role)) {
      throw forbidden(`role "${principal.role}" may not create a key with role "${input.role}"`);
    }
    const now = new Date();
    const expiresAt = input.expires_in ? addSeconds(now, ttlSeconds(input.expires_in)) : null;
    const { row, raw } = await this.newKey(
      principal,
      input.role,
      input.name ?? `${input.role}-key`,
      now,
      expiresAt,
    );
    const key = await this.transactions.run(async (t) => {
      const inserted = await this.keys.insert(principal.tenantId, row, t);
      await this.audit.record(
        principal,
        {
          type: 'api_key.created',
          resource_type: 'api_key',
          resource_id: inserted.id,
          details: { role: inserted.role, name: inserted.name, expires_at: expiresAt?.toISOString() ?? null },
        },
        t,
      );
      return inserted;
    }, tx);
    return { key: toApiKeyView(key, now), raw_key: raw };
  }

  /**
   * Mints an endpoint credential: a `fleet-push` key bound to one `source_id`, not yet stored. Only the enrollment
   * path calls this; it is how a shared enroll key (which cannot grant roles) obtains a per-endpoint key. The
   * fleet write path stores the row in the statement that writes the enrollment and the endpoint's inventory
   * (`FleetSyncTransaction.writeSyncs`), inside the enrollment's transaction; the caller records the enrollment.
   */
  async mintEndpointCredential(
    principal: Principal,
    sourceId: string,
    now: Date,
  ): Promise<EndpointCredential> {
    const { row, raw } = await this.newKey(
      principal,
      'fleet-push',
      `endpoint:${sourceId}`,
      now,
      null,
      sourceId,
    );
    return {
      raw,
      row: {
        id: row.id,
        name: row.name,
        role: row.role,
        lookup_prefix: row.lookupPrefix,
        secret_hash: row.secretHash,
        created_at: row.createdAt,
        created_by: row.createdBy,
        source_id: sourceId,
      },
    };
  }

  /** Revokes a key inside the caller's transaction (no audit: the caller records its own action). */
  async revokeWithin(tenantId: string, id: string, tx: Tx): Promise<void> {
    await this.keys.revoke(tenantId, id, new Date(), tx);
    this.cache.evictKey(id);
  }

  async list(
    principal: Principal,
    query: { limit?: number; cursor?: string },
  ): Promise<{ items: ApiKeyView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const position = query.cursor ? timeIdCursor.decode(query.cursor) : undefined;
    const after = position && { createdAt: position.at, id: position.id };
    const rows = await this.keys.list(principal.tenantId, { limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => toApiKeyView(row)),
      next_cursor: rows.length > limit && last ? timeIdCursor.encode(last.createdAt, last.id) : null,
    };
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    const key = await this.keys.findById(principal.tenantId, id);
    if (!key) throw notFound('API key');
    return toApiKeyView(key);
  }

  /** Revoking is idempotent: revoking a revoked key returns it unchanged (and records nothing). */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    // Whoever may not mint a key of a role may not revoke one either (an admin cannot cut off a platform admin).
    const existing = await this.keys.findById(principal.tenantId, id);
    if (!existing) throw notFound('API key');
    if (!canGrantRole(principal.role, existing.role)) {
      throw forbidden(`role "${principal.role}" may not revoke a key with role "${existing.role}"`);
    }
    const key = await this.transactions.run(async (tx) => {
      const result = await this.keys.revoke(principal.tenantId, id, new Date(), tx);
      if (!result) throw notFound('API key');
      if (result.changed) {
        await this.audit.record(
          principal,
          {
            type: 'api_key.revoked',
            resource_type: 'api_key',
            resource_id: id,
            details: { role: result.key.role, name: result.key.name },
          },
          tx,
        );
      }
      return result.key;
    });
    this.cache.evictKey(id);
    return toApiKeyView(key);
  }

  /**
   * Mints a replacement with the same role, name and remaining lifetime policy, and retires the old key at once
   * or after `overlap` (at most 24 h) so that deployments can roll over without an outage.
   */
  async rotate(principal: Principal, id: string, overlap: string | undefined): Promise<CreatedApiKey> {
    const overlapSeconds = overlap === undefined ? 0 : parseDuration(overlap);
    if (overlapSeconds === undefined || overlapSeconds > API_KEY_MAX_ROTATION_OVERLAP_SECONDS) {
      throw invalid(
        'overlap',
        `must be a duration of at most ${API_KEY_MAX_ROTATION_OVERLAP_SECONDS / 3600}h`,
      );
    }
    const existing = await this.keys.findById(principal.tenantId, id);
    if (!existing) throw notFound('API key');
    if (!canGrantRole(principal.role, existing.role)) {
      throw forbidden(`role "${principal.role}" may not rotate a key with role "${existing.role}"`);
    }
    const now = new Date();
    const lifetime = existing.expiresAt ? existing.expiresAt.getTime() - existing.createdAt.getTime() : null;
    const expiresAt = lifetime === null ? null : new Date(now.getTime() + lifetime);
    const { row, raw } = await this.newKey(
      principal,
      existing.role,
      existing.name,
      now,
      expiresAt,
      existing.sourceId,
    );
    const overlapUntil = overlapSeconds === 0 ? null : addSeconds(now, overlapSeconds);
    const replacement = await this.transactions.run(async (tx) => {
      const result = await this.keys.rotate(
        principal.tenantId,
        id,
        row,
        { revokedAt: overlapSeconds === 0 ? now : null, overlapUntil },
        tx,
      );
      if (result === null) throw notFound('API key');
      if (result === 'retired') throw conflict('this key was already revoked or rotated');
      await this.audit.record(
        principal,
        {
          type: 'api_key.rotated',
          resource_type: 'api_key',
          resource_id: id,
          details: {
            replaced_by: result.replacement.id,
            role: result.replacement.role,
            name: result.replacement.name,
            overlap_until: overlapUntil?.toISOString() ?? null,
          },
        },
        tx,
      );
      return result.replacement;
    });
    this.cache.evictKey(id);
    return { key: toApiKeyView(replacement, now), raw_key: raw };
  }

  private async newKey(
    principal: Principal,
    role: Role,
    name: string,
    now: Date,
    expiresAt: Date | null,
    sourceId: string | null = null,
  ): Promise<{ row: Omit<ApiKeyEntity, 'tenantId'>; raw: string }> {
    const secret = generateSecret();
    return {
      raw: secret.raw,
      row: {
        id: randomUUID(),
        name,
        role,
        lookupPrefix: secret.lookupPrefix,
        secretHash: await hashSecret(secret.raw),
        createdAt: now,
        createdBy: principal.subject,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
        replacedBy: null,
        overlapUntil: null,
        sourceId,
      },
    };
  }
}

function ttlSeconds(expiresIn: string): number {
  const seconds = parseDuration(expiresIn);
  if (seconds === undefined || seconds > API_KEY_MAX_TTL_SECONDS) {
    throw invalid('expires_in', `must be a positive duration of at most ${API_KEY_MAX_TTL_SECONDS / 86400}d`);
  }
  return seconds;
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
