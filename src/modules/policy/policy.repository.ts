import { Injectable } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { PolicyDocument, RuleBindings } from '../../../libs/policy/src/index.js';
import { managerOf, type Tx } from '../../core/database/transactions.js';

/** The channel a policy write notifies (in its transaction, so at commit) with the tenant id as payload. */
export const BUNDLE_CHANNEL = 'agent_bom_policy_bundle';

const BUNDLE_VERSION_SQL = `SELECT version FROM policy_bundles WHERE tenant_id = $1`;

/** The part of node-postgres' pool that runs a named (prepared) statement. */
interface PreparedQueryPool {
  query<R>(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/** The content of one version: what a create or an update writes. */
export interface PolicyContent {
  name: string;
  description: string | null;
  enabled: boolean;
  document: PolicyDocument;
  bindings: RuleBindings | null;
}

/** One stored version, with the head's creation time. */
export interface PolicyRecord extends PolicyContent {
  id: string;
  tenant_id: string;
  version: number;
  deleted: boolean;
  bundle_version: number;
  /** When the policy (version 1) was created. */
  created_at: Date;
  /** When this version was written, and by whom. */
  updated_at: Date;
  updated_by: string;
}

/** A version without its document, for lists. */
export type PolicySummaryRecord = Omit<PolicyRecord, 'document'> & { rule_count: number };

export interface NewVersion extends PolicyContent {
  id: string;
  version: number;
  deleted: boolean;
  bundle_version: number;
  at: Date;
  by: string;
}

/** Columns of a version joined with its head; `document` is added where the document is wanted. */
const VERSION_COLUMNS = `
  v.policy_id AS id, v.tenant_id, v.version, v.name, v.description, v.enabled, v.bindings, v.deleted,
  v.bundle_version, p.created_at, v.created_at AS updated_at, v.created_by AS updated_by`;
const RULE_COUNT = `json_array_length(v.document->'rules') AS rule_count`;

/**
 * SQL for policies, their versions and the tenant's bundle. Every method takes the tenant; writes take the
 * caller's transaction, which must first call {@link lockBundle}: that row lock serialises a tenant's policy
 * writes, so name checks, version numbers and the effective document are computed without races.
 */
@Injectable()
export class PolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Locks the tenant's bundle row until the transaction ends (creating it at version 0 on the tenant's first
   * write) and returns its version. Every policy write of the tenant queues here.
   */
  async lockBundle(tenantId: string, tx: Tx): Promise<number> {
    await tx.manager.query(
      `INSERT INTO policy_bundles (tenant_id, version, document, updated_at)
       VALUES ($1, 0, '{"version":1,"rules":[]}', now()) ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId],
    );
    const [row] = (await tx.manager.query(
      `SELECT version FROM policy_bundles WHERE tenant_id = $1 FOR UPDATE`,
      [tenantId],
    )) as { version: number }[];
    return row.version;
  }

  /** Stores the effective document as the next bundle version; returns that version. Needs {@link lockBundle}. */
  async bumpBundle(tenantId: string, document: PolicyDocument, at: Date, tx: Tx): Promise<number> {
    // A CTE, because the driver answers a bare UPDATE … RETURNING with [rows, count] rather than rows.
    const [row] = (await tx.manager.query(
      `WITH bumped AS (
         UPDATE policy_bundles SET version = version + 1, document = $2::json, updated_at = $3
          WHERE tenant_id = $1 RETURNING version
       ) SELECT version FROM bumped`,
      [tenantId, JSON.stringify(document), at],
    )) as { version: number }[];
    // Delivered at commit to every replica's BundleVersions (nothing on rollback).
    await tx.manager.query(`SELECT pg_notify($1, $2)`, [BUNDLE_CHANNEL, tenantId]);
    return row.version;
  }

  /**
   * The tenant's bundle version; 0 when it never wrote a policy. Every bundle poll reads it, so it is a named
   * (prepared once per connection) statement on the driver's pool: no parse and plan per poll in PostgreSQL and
   * no query runner in TypeORM (bench/policy/bundle.bench.ts).
   */
  async bundleVersion(tenantId: string): Promise<number> {
    const pool = (this.dataSource.driver as unknown as { master?: PreparedQueryPool }).master;
    if (!pool) {
      const rows = (await this.dataSource.query(BUNDLE_VERSION_SQL, [tenantId])) as { version: number }[];
      return rows[0]?.version ?? 0;
    }
    const { rows } = await pool.query<{ version: number }>({
      name: 'policy-bundle-version',
      text: BUNDLE_VERSION_SQL,
      values: [tenantId],
    });
    return rows[0]?.version ?? 0;
  }

  /**
   * LISTENs for committed bundle changes on a connection of its own: `changed(tenantId)` per commit; `lost()`
   * once if the connection fails or ends. Rejects when it cannot connect or LISTEN.
   */
  async listenBundleChanges(
    changed: (tenantId: string) => void,
    lost: () => void,
  ): Promise<{ close(): Promise<void> }> {
    const options = (this.dataSource.driver as unknown as { master?: { options?: pg.ClientConfig } }).master
      ?.options;
    if (!options) throw new Error('no PostgreSQL pool to take connection options from');
    const client = new pg.Client({ ...options, application_name: 'agent-bom bundle listener' });
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      void client.end().catch(() => undefined);
      lost();
    };
    client.on('error', end);
    client.on('end', end);
    client.on('notification', (message) => {
      if (message.channel === BUNDLE_CHANNEL && message.payload) changed(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${BUNDLE_CHANNEL}`);
    } catch (error) {
      open = false;
      await client.end().catch(() => undefined);
      throw error;
    }
    return {
      close: async () => {
        open = false;
        await client.end().catch(() => undefined);
      },
    };
  }

  /** The tenant's bundle version and effective document, read together; null when it never wrote a policy. */
  async findBundle(tenantId: string): Promise<{ version: number; document: PolicyDocument } | null> {
    const rows = (await this.dataSource.query(
      `SELECT version, document FROM policy_bundles WHERE tenant_id = $1`,
      [tenantId],
    )) as { version: number; document: PolicyDocument }[];
    return rows[0] ?? null;
  }

  /** Whether a live policy other than `exceptId` has this name. */
  async nameTaken(tenantId: string, name: string, exceptId: string | null, tx: Tx): Promise<boolean> {
    const rows = (await tx.manager.query(
      `SELECT 1 FROM policies WHERE tenant_id = $1 AND name = $2 AND NOT deleted
         AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [tenantId, name, exceptId],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Writes a version and points the policy's head at it (creating the head for version 1). */
  async insertVersion(tenantId: string, row: NewVersion, tx: Tx): Promise<void> {
    await tx.manager.query(
      `INSERT INTO policies (tenant_id, id, name, current_version, deleted, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, id) DO UPDATE SET
         name = EXCLUDED.name, current_version = EXCLUDED.current_version, deleted = EXCLUDED.deleted`,
      [tenantId, row.id, row.name, row.version, row.deleted, row.at],
    );
    await tx.manager.query(
      `INSERT INTO policy_versions
         (tenant_id, policy_id, version, name, description, enabled, document, bindings, deleted, bundle_version,
          created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::json, $9, $10, $11, $12)`,
      [
        tenantId,
        row.id,
        row.version,
        row.name,
        row.description,
        row.enabled,
        JSON.stringify(row.document),
        row.bindings === null ? null : JSON.stringify(row.bindings),
        row.deleted,
        row.bundle_version,
        row.at,
        row.by,
      ],
    );
  }

  /** The current version of a policy, deleted or not; null when the tenant has no such policy. */
  async findCurrent(tenantId: string, id: string, tx?: Tx): Promise<PolicyRecord | null> {
    const rows = (await managerOf(this.dataSource, tx).query(
      `SELECT ${VERSION_COLUMNS}, v.document
         FROM policies p
         JOIN policy_versions v ON v.tenant_id = p.tenant_id AND v.policy_id = p.id AND v.version = p.current_version
        WHERE p.tenant_id = $1 AND p.id = $2`,
      [tenantId, id],
    )) as PolicyRecord[];
    return rows[0] ?? null;
  }

  async findVersion(tenantId: string, id: string, version: number): Promise<PolicyRecord | null> {
    const rows = (await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}, v.document
         FROM policy_versions v JOIN policies p ON p.tenant_id = v.tenant_id AND p.id = v.policy_id
        WHERE v.tenant_id = $1 AND v.policy_id = $2 AND v.version = $3`,
      [tenantId, id, version],
    )) as PolicyRecord[];
    return rows[0] ?? null;
  }

  /** Live policies at their current version, by name; `after` is the (name, id) of the previous page's last. */
  async list(
    tenantId: string,
    page: { limit: number; after?: { name: string; id: string } },
  ): Promise<PolicySummaryRecord[]> {
    return (await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}, ${RULE_COUNT}
         FROM policies p
         JOIN policy_versions v ON v.tenant_id = p.tenant_id AND v.policy_id = p.id AND v.version = p.current_version
        WHERE p.tenant_id = $1 AND NOT p.deleted
          AND ($2::text IS NULL OR (p.name COLLATE "C", p.id) > ($2::text COLLATE "C", $3::uuid))
        ORDER BY p.name COLLATE "C", p.id
        LIMIT $4`,
      [tenantId, page.after?.name ?? null, page.after?.id ?? null, page.limit],
    )) as PolicySummaryRecord[];
  }

  /** A policy's versions, newest first, below `before`. Empty when the tenant has no such policy. */
  async listVersions(
    tenantId: string,
    id: string,
    page: { limit: number; before?: number },
  ): Promise<PolicySummaryRecord[]> {
    return (await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}, ${RULE_COUNT}
         FROM policy_versions v JOIN policies p ON p.tenant_id = v.tenant_id AND p.id = v.policy_id
        WHERE v.tenant_id = $1 AND v.policy_id = $2 AND ($3::int IS NULL OR v.version < $3::int)
        ORDER BY v.version DESC
        LIMIT $4`,
      [tenantId, id, page.before ?? null, page.limit],
    )) as PolicySummaryRecord[];
  }

  /** Every enabled live policy at its current version, with documents, by name: the effective policy's input. */
  async listEnabled(tenantId: string, tx: Tx): Promise<PolicyRecord[]> {
    return (await tx.manager.query(
      `SELECT ${VERSION_COLUMNS}, v.document
         FROM policies p
         JOIN policy_versions v ON v.tenant_id = p.tenant_id AND v.policy_id = p.id AND v.version = p.current_version
        WHERE p.tenant_id = $1 AND NOT p.deleted AND v.enabled
        ORDER BY p.name COLLATE "C", p.id`,
      [tenantId],
    )) as PolicyRecord[];
  }
}
