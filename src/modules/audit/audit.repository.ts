import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SignedCheckpoint, StoredAuditEvent } from '../../../libs/contracts/src/index.js';
import { managerOf, type Tx } from '../../core/database/transactions.js';
import { CHECKPOINT_FORMAT, GENESIS_HASH, type ChainEntry } from './chain.js';

export interface ChainHead {
  seq: number;
  hash: string;
  anchorSeq: number;
  checkpointedSeq: number;
  unsignedSince: Date | null;
}

/** A stored entry: the chain fields and the event they cover. */
export type StoredEntry = ChainEntry & { event: StoredAuditEvent };

export interface NewEntry {
  seq: number;
  prevHash: string;
  hash: string;
  event: StoredAuditEvent;
}

/** What a verification or an export covers, read in one statement (one snapshot). */
export interface ChainBounds {
  head: ChainHead | null;
  minEntrySeq: number | null;
  maxEntrySeq: number | null;
  maxCheckpointSeq: number | null;
}

export interface EntryFilters {
  type?: string;
  origin?: string;
  agent?: string;
  tool?: string;
  decision?: string;
  traceId?: string;
  /** Normalised UTC ISO strings: they sort as text in time order. */
  since?: string;
  until?: string;
}

interface HeadRow {
  seq: string;
  hash: string;
  anchor_seq: string;
  checkpointed_seq: string;
  unsigned_since: Date | null;
}

interface EntryRow {
  tenant_id: string;
  seq: string;
  prev_hash: string;
  hash: string;
  event: StoredAuditEvent;
}

export interface CheckpointRow {
  tenant_id: string;
  seq: string;
  hash: string;
  purpose: SignedCheckpoint['purpose'];
  signed_at: string;
  key_id: string;
  signature: string;
}

const HEAD_COLUMNS = 'seq, hash, anchor_seq, checkpointed_seq, unsigned_since';

/** SQL of the audit ledger. Every method takes the tenant; writes take the caller's transaction. */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Locks the tenant's chain head (creating it at seq 0 on first use) until `tx` ends, and returns it.
   * Every append goes through here first: that row lock is what serialises writers on every replica.
   * The no-op DO UPDATE takes the lock and returns the latest committed head in one round trip.
   */
  async lockHead(tenantId: string, tx: Tx): Promise<ChainHead> {
    const rows: HeadRow[] = await tx.manager.query(
      `INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_heads.seq
       RETURNING ${HEAD_COLUMNS}`,
      [tenantId, GENESIS_HASH],
    );
    return toHead(rows[0]);
  }

  /** Like {@link lockHead} for the checkpoint sweeper: skips a head another writer holds, and unsigned ones only. */
  async lockUnsignedHead(tenantId: string, tx: Tx): Promise<ChainHead | null> {
    const rows: HeadRow[] = await tx.manager.query(
      `SELECT ${HEAD_COLUMNS} FROM audit_heads
       WHERE tenant_id = $1 AND seq > checkpointed_seq FOR UPDATE SKIP LOCKED`,
      [tenantId],
    );
    return rows[0] ? toHead(rows[0]) : null;
  }

  /**
   * Stored events with these ids, by {@link writerEventKey} of their writer and id, for duplicate detection; read
   * under the head lock, so it cannot race.
   */
  async findByEventIds(tenantId: string, eventIds: string[], tx: Tx): Promise<Map<string, StoredAuditEvent>> {
    if (eventIds.length === 0) return new Map();
    const rows: Array<{ writer: string; event_id: string; event: StoredAuditEvent }> = await tx.manager.query(
      `SELECT writer, event_id, event FROM audit_entries WHERE tenant_id = $1 AND event_id = ANY($2::text[])`,
      [tenantId, eventIds],
    );
    return new Map(rows.map((row) => [writerEventKey(row.writer, row.event_id), row.event]));
  }

  /** Inserts the new links and moves the head to the last of them, in one statement. */
  async append(tenantId: string, entries: NewEntry[], now: Date, tx: Tx): Promise<void> {
    const last = entries[entries.length - 1];
    await tx.manager.query(
      `WITH inserted AS (
         INSERT INTO audit_entries (tenant_id, seq, prev_hash, hash, event)
         SELECT $1, s, p, h, e FROM unnest($2::bigint[], $3::text[], $4::text[], $5::jsonb[]) AS t(s, p, h, e)
       )
       UPDATE audit_heads
       SET seq = $6, hash = $7, unsigned_since = COALESCE(unsigned_since, $8), updated_at = $8
       WHERE tenant_id = $1`,
      [
        tenantId,
        entries.map((e) => e.seq),
        entries.map((e) => e.prevHash),
        entries.map((e) => e.hash),
        entries.map((e) => JSON.stringify(e.event)),
        last.seq,
        last.hash,
        now,
      ],
    );
  }

  /**
   * Stores a checkpoint and marks the head signed up to it. An anchor replaces a checkpoint at the same seq
   * (retention only, which has set the prune flag); any other kind keeps the one already there.
   */
  async insertCheckpoint(tenantId: string, checkpoint: SignedCheckpoint, tx: Tx): Promise<void> {
    const conflict =
      checkpoint.purpose === 'anchor'
        ? `DO UPDATE SET hash = EXCLUDED.hash, purpose = EXCLUDED.purpose, signed_at = EXCLUDED.signed_at,
             key_id = EXCLUDED.key_id, signature = EXCLUDED.signature`
        : 'DO NOTHING';
    await tx.manager.query(
      `INSERT INTO audit_checkpoints (tenant_id, seq, hash, purpose, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, seq) ${conflict}`,
      [
        tenantId,
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.purpose,
        checkpoint.signed_at,
        checkpoint.key_id,
        checkpoint.signature,
      ],
    );
    await tx.manager.query(
      `UPDATE audit_heads
       SET checkpointed_seq = GREATEST(checkpointed_seq, $2),
           unsigned_since = CASE WHEN seq <= $2 THEN NULL ELSE unsigned_since END
       WHERE tenant_id = $1`,
      [tenantId, checkpoint.seq],
    );
  }

  /** The stored checkpoint at a seq, if any. */
  async checkpointAt(tenantId: string, seq: number, tx?: Tx): Promise<SignedCheckpoint | null> {
    const rows: CheckpointRow[] = await managerOf(this.dataSource, tx).query(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND seq = $2`,
      [tenantId, seq],
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  /** Head, entry range and last checkpoint in one statement, so they describe one moment. */
  async bounds(tenantId: string): Promise<ChainBounds> {
    const rows: Array<{
      head: HeadRow | null;
      min_entry: string | null;
      max_entry: string | null;
      max_checkpoint: string | null;
    }> = await this.dataSource.query(
      `SELECT
         (SELECT row_to_json(h) FROM (SELECT ${HEAD_COLUMNS} FROM audit_heads WHERE tenant_id = $1) h) AS head,
         (SELECT min(seq) FROM audit_entries WHERE tenant_id = $1) AS min_entry,
         (SELECT max(seq) FROM audit_entries WHERE tenant_id = $1) AS max_entry,
         (SELECT max(seq) FROM audit_checkpoints WHERE tenant_id = $1) AS max_checkpoint`,
      [tenantId],
    );
    const row = rows[0];
    return {
      head: row.head ? toHead(row.head) : null,
      minEntrySeq: nullableNumber(row.min_entry),
      maxEntrySeq: nullableNumber(row.max_entry),
      maxCheckpointSeq: nullableNumber(row.max_checkpoint),
    };
  }

  /** Entries with afterSeq < seq ≤ toSeq, in seq order: a keyset page. */
  async entriesPage(
    tenantId: string,
    afterSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<StoredEntry[]> {
    const rows: EntryRow[] = await this.dataSource.query(
      `SELECT tenant_id, seq, prev_hash, hash, event FROM audit_entries
       WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [tenantId, afterSeq, toSeq, limit],
    );
    return rows.map(toEntry);
  }

  async checkpointsPage(
    tenantId: string,
    afterSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<SignedCheckpoint[]> {
    const rows: CheckpointRow[] = await this.dataSource.query(
      `SELECT * FROM audit_checkpoints WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [tenantId, afterSeq, toSeq, limit],
    );
    return rows.map(toCheckpoint);
  }

  /** Newest first, filtered, keyset-paginated on seq. */
  async list(
    tenantId: string,
    filters: EntryFilters,
    beforeSeq: number | undefined,
    limit: number,
  ): Promise<StoredEntry[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filters.type) add('type = ?', filters.type);
    if (filters.origin) add('origin = ?', filters.origin);
    if (filters.agent) add('agent = ?', filters.agent);
    if (filters.tool) add('tool = ?', filters.tool);
    if (filters.decision) add('decision = ?', filters.decision);
    if (filters.traceId) add('trace_id = ?', filters.traceId);
    if (filters.since) add('occurred_at >= ?', filters.since);
    if (filters.until) add('occurred_at < ?', filters.until);
    if (beforeSeq !== undefined) add('seq < ?', beforeSeq);
    params.push(limit);
    const rows: EntryRow[] = await this.dataSource.query(
      `SELECT tenant_id, seq, prev_hash, hash, event FROM audit_entries
       WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }

  /** Tenants with entries not yet covered by a checkpoint since before `before`. */
  /**
   * Per UTC day from `from` to `to` (inclusive, `YYYY-MM-DD`): runtime decisions by decision and the findings open
   * at the day's end, in one statement; a day without either is a row of zeros. Event times are normalised UTC ISO
   * strings, so the day is their first ten characters and the range compares as text (on the occurred_at index).
   */
  async trends(
    tenantId: string,
    from: string,
    to: string,
  ): Promise<Array<{ day: string; decisions: Record<string, number>; open_findings: number }>> {
    return (await this.dataSource.query(
      `WITH days AS (
         SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
       ), decided AS MATERIALIZED (
         SELECT day, jsonb_object_agg(decision, n) AS decisions
           FROM (SELECT left(occurred_at, 10)::date AS day, decision, count(*)::int AS n
                   FROM audit_entries
                  WHERE tenant_id = $1 AND origin = 'runtime' AND decision IS NOT NULL
                    AND occurred_at >= to_char($2::date, 'YYYY-MM-DD')
                    AND occurred_at < to_char($3::date + 1, 'YYYY-MM-DD')
                  GROUP BY 1, 2) per_decision
          GROUP BY day
       )
       SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
              COALESCE(decided.decisions, '{}') AS decisions,
              (SELECT count(*)::int FROM findings f
                WHERE f.tenant_id = $1
                  AND f.first_seen < (days.day + 1)::timestamp AT TIME ZONE 'UTC'
                  AND (f.resolved_at IS NULL OR f.resolved_at >= (days.day + 1)::timestamp AT TIME ZONE 'UTC')
              ) AS open_findings
         FROM days LEFT JOIN decided ON decided.day = days.day
        ORDER BY days.day`,
      [tenantId, from, to],
    )) as Array<{ day: string; decisions: Record<string, number>; open_findings: number }>;
  }

  async headsAwaitingCheckpoint(before: Date, limit: number): Promise<string[]> {
    const rows: Array<{ tenant_id: string }> = await this.dataSource.query(
      `SELECT tenant_id FROM audit_heads
       WHERE seq > checkpointed_seq AND unsigned_since <= $1 ORDER BY unsigned_since LIMIT $2`,
      [before, limit],
    );
    return rows.map((row) => row.tenant_id);
  }

  async tenantsWithChains(): Promise<string[]> {
    const rows: Array<{ tenant_id: string }> = await this.dataSource.query(
      `SELECT tenant_id FROM audit_heads WHERE seq > anchor_seq ORDER BY tenant_id`,
    );
    return rows.map((row) => row.tenant_id);
  }

  /** The newest checkpoint signed before `cutoff` (UTC ISO) beyond the current anchor: where retention may cut. */
  async latestCheckpointSignedBefore(tenantId: string, cutoff: string): Promise<SignedCheckpoint | null> {
    const rows: CheckpointRow[] = await this.dataSource.query(
      `SELECT c.* FROM audit_checkpoints c JOIN audit_heads h ON h.tenant_id = c.tenant_id
       WHERE c.tenant_id = $1 AND c.signed_at < $2 AND c.seq > h.anchor_seq
       ORDER BY c.seq DESC LIMIT 1`,
      [tenantId, cutoff],
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async entryHashAt(tenantId: string, seq: number, tx: Tx): Promise<string | null> {
    const rows: Array<{ hash: string }> = await tx.manager.query(
      `SELECT hash FROM audit_entries WHERE tenant_id = $1 AND seq = $2`,
      [tenantId, seq],
    );
    return rows[0]?.hash ?? null;
  }

  /**
   * Retention: removes entries up to `throughSeq` and the checkpoints before it, and records the anchor.
   * The append-only trigger lets these deletes through only because this transaction sets the prune flag.
   */
  async pruneThrough(tenantId: string, throughSeq: number, tx: Tx): Promise<number> {
    await tx.manager.query(`SELECT set_config('agent_bom.audit_prune', 'on', true)`);
    const [, deleted] = (await tx.manager.query(
      `DELETE FROM audit_entries WHERE tenant_id = $1 AND seq <= $2`,
      [tenantId, throughSeq],
    )) as [unknown, number];
    await tx.manager.query(`DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND seq < $2`, [
      tenantId,
      throughSeq,
    ]);
    await tx.manager.query(`UPDATE audit_heads SET anchor_seq = $2 WHERE tenant_id = $1`, [
      tenantId,
      throughSeq,
    ]);
    return deleted;
  }
}

function toHead(row: HeadRow): ChainHead {
  return {
    seq: Number(row.seq),
    hash: row.hash,
    anchorSeq: Number(row.anchor_seq),
    checkpointedSeq: Number(row.checkpointed_seq),
    unsignedSince: row.unsigned_since ? new Date(row.unsigned_since) : null,
  };
}

function toEntry(row: EntryRow): StoredEntry {
  return {
    tenant_id: row.tenant_id,
    seq: Number(row.seq),
    prev_hash: row.prev_hash,
    hash: row.hash,
    event: row.event,
  };
}

export function toCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return {
    format: CHECKPOINT_FORMAT,
    tenant_id: row.tenant_id,
    seq: Number(row.seq),
    hash: row.hash,
    purpose: row.purpose,
    signed_at: row.signed_at,
    key_id: row.key_id,
    signature: row.signature,
  };
}

function nullableNumber(value: string | null): number | null {
  return value === null ? null : Number(value);
}

/** The uniqueness key of a stored event, as the unique index has it: (writer, event id). */
export function writerEventKey(writer: string, eventId: string): string {
  return `${writer}\u0000${eventId}`;
}
