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

/** One event to append: its writer and id (for duplicates) and its canonical JSON (what is hashed and stored). */
export interface ChainInput {
  writer: string;
  eventId: string;
  canonical: string;
}

/** Checkpoint policy: a statement without a transaction around it must not write entries that make one due. */
export interface CheckpointGuard {
  entries: number;
  seconds: number;
}

/**
 * What {@link AuditRepository.appendChained} did: the head before it, the hashes of the entries it wrote (seq
 * head.seq + 1, + 2, …, in input order), and the stored events of the inputs it skipped, by input index.
 */
export interface ChainAppend {
  head: ChainHead;
  hashes: string[];
  stored: Map<number, StoredAuditEvent>;
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

/**
 * {@link AuditRepository.appendChained}, with the duplicate lookup (`lookup`) or without it (then the unique
 * index on (tenant, writer, event id) refuses a stored id, and the whole statement with it). $1 tenant, $2 writers, $3 event ids,
 * $4 the events' canonical JSON texts as one JSON array (`json`, not `jsonb`: `json_array_elements` gives each
 * element's text exactly as sent, so `c` is byte for byte the canonical JSON; as a `text[]` the driver escaped every
 * quote of every event into an array literal, ~4 µs an event), $5 the tenant id as JSON, $6 now, $7 guard on,
 * $8 checkpoint entries, $9 checkpoint seconds.
 * `hashed` is entryHash (chain.ts) spelled in SQL: `audit_chain_hash` (migration 1764400600000) hashes
 * canonical_json({tenant_id, seq, prev_hash, event}), keys in the order event, prev_hash, seq, tenant_id, as a
 * running aggregate over the new events in input order, from the head's hash: linear in the commit's size (a
 * recursive CTE subscripting one array of every event's JSON per step was quadratic).
 */
/** One index probe per input (LIMIT 1 keeps the planner from hashing the tenant's whole chain instead). */
const STORED_BY_INDEX = `LEFT JOIN LATERAL (
    SELECT event FROM audit_entries WHERE tenant_id = $1 AND writer = t.w AND event_id = t.id LIMIT 1
  ) s ON true`;

const appendChainedSql = (lookup: boolean, alongside?: string) => `
WITH
${alongside ? `alongside AS (${alongside}),` : ''}
head AS MATERIALIZED (
  SELECT ${HEAD_COLUMNS} FROM audit_heads WHERE tenant_id = $1
  ${alongside ? 'AND (SELECT count(*) FROM alongside) >= 0' : ''}
  FOR UPDATE
),
input AS MATERIALIZED (
  SELECT t.n, t.j::text AS c, s.event AS stored
  FROM ROWS FROM (unnest($2::text[]), unnest($3::text[]), json_array_elements($4::json)) WITH ORDINALITY AS t(w, id, j, n)
  ${lookup ? STORED_BY_INDEX : 'CROSS JOIN (SELECT NULL::jsonb AS event) s'}
),
fresh AS MATERIALIZED (
  SELECT row_number() OVER (ORDER BY n) AS k, c FROM input WHERE stored IS NULL
),
gate AS MATERIALIZED (
  SELECT head.seq, head.hash FROM head, (SELECT count(*) AS k FROM fresh) fresh
  WHERE NOT $7::boolean OR fresh.k = 0 OR NOT (
    head.seq + fresh.k - head.checkpointed_seq >= $8::bigint
    OR coalesce(head.unsigned_since <= $6::timestamptz - make_interval(secs => $9::int), false))
),
hashed AS MATERIALIZED (
  SELECT gate.seq + f.k AS seq, f.c,
         audit_chain_hash(f.c, gate.seq + f.k, gate.hash, $5::text) OVER (ORDER BY f.k ROWS UNBOUNDED PRECEDING) AS hash
  FROM fresh f, gate
),
chain AS MATERIALIZED (
  SELECT h.seq, coalesce(lag(h.hash) OVER (ORDER BY h.seq), gate.hash) AS prev_hash, h.hash, h.c
  FROM hashed h, gate
),
inserted AS (
  INSERT INTO audit_entries (tenant_id, seq, prev_hash, hash, event)
  SELECT $1, seq, prev_hash, hash, c::jsonb FROM chain
),
moved AS (
  UPDATE audit_heads h
  SET seq = last.seq, hash = last.hash, unsigned_since = COALESCE(h.unsigned_since, $6), updated_at = $6
  FROM (SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1) last
  WHERE h.tenant_id = $1
)
SELECT (SELECT row_to_json(head) FROM head) AS head,
       EXISTS (SELECT 1 FROM gate) AS open,
       (SELECT coalesce(string_agg(hash, '' ORDER BY seq), '') FROM chain) AS hashes,
       (SELECT json_object_agg(n, stored) FROM input WHERE stored IS NOT NULL) AS stored
       ${alongside ? ', (SELECT row_to_json(a) FROM alongside a) AS alongside' : ''}`;
/**
 * A write of the caller's own, run by the append's statement before it locks the chain head (the head's one-time
 * filter reads it, so it runs first): for a caller whose transaction must end holding another serial row as well
 * (the fleet's agent count), one round trip fewer while it holds both. `sql` is one data-modifying statement
 * returning at most one row, its values passed through `param` (which returns their placeholders, numbered after
 * the append's own); `read` gets that row (null: none), whether or not the append itself could be done.
 */
export interface Alongside<T> {
  sql(param: (value: unknown) => string): string;
  read(row: Record<string, unknown> | null): T;
}

const APPEND_CHAINED = appendChainedSql(false);
const APPEND_CHAINED_LOOKUP = appendChainedSql(true);

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
   * Appends in one statement: locks the tenant's head (`FOR UPDATE`), skips the inputs this writer already stored
   * (with `tx`; without, a stored id makes the unique index refuse the statement), chains the rest from the head (PostgreSQL computes each hash over the canonical JSON the caller gave, exactly
   * as `entryHash` in chain.ts does), inserts them and moves the head. Inputs must be unique by writer and id.
   *
   * With `tx` and no `guard` the caller holds the head already ({@link lockHead}): this statement then sees every
   * commit before that lock. Without `tx` it is a transaction of its own, so the lock is held for this one statement
   * and its commit only; with `tx` and a `guard` it joins the caller's transaction, for inputs that cannot be stored
   * already (fresh ids: a stored one would fail the statement, and the caller's transaction with it). Either way its
   * snapshot predates the wait for the lock, so it gives up (returns null, nothing written)
   * when the caller must take the locked path instead: the head does not exist yet, a checkpoint falls due with
   * these entries (`guard`: it must be signed in the same transaction), or one of these ids is stored already
   * (the unique index refuses the insert, and the statement writes nothing; re-sends are the rare case, so the
   * common one does not pay for the lookup, and one stored meanwhile by a writer that held the head is caught).
   */
  async appendChained(
    tenantId: string,
    inputs: ChainInput[],
    now: Date,
    guard: CheckpointGuard | null,
    tx?: Tx,
  ): Promise<ChainAppend | null> {
    let rows: AppendRow[];
    try {
      const locked = tx !== undefined && guard === null;
      rows = await managerOf(this.dataSource, tx).query(
        locked ? APPEND_CHAINED_LOOKUP : APPEND_CHAINED,
        appendParams(tenantId, inputs, now, guard),
      );
    } catch (error) {
      if (!tx && isWriterEventIdConflict(error)) return null;
      throw error;
    }
    return chainAppend(rows[0], tx !== undefined && guard === null);
  }

  /**
   * {@link appendChained} in the caller's transaction with a `guard` (fresh ids only), with the caller's
   * `alongside` write in the same statement, run before the head is locked. The append is null when the locked
   * path must follow (as for {@link appendChained}); the alongside write is done either way.
   */
  async appendChainedAlongside<T>(
    tenantId: string,
    inputs: ChainInput[],
    now: Date,
    guard: CheckpointGuard,
    tx: Tx,
    alongside: Alongside<T>,
  ): Promise<{ append: ChainAppend | null; alongside: T }> {
    const params = appendParams(tenantId, inputs, now, guard);
    const sql = alongside.sql((value) => `$${params.push(value)}`);
    const rows: Array<AppendRow & { alongside: Record<string, unknown> | null }> = await tx.manager.query(
      appendChainedSql(false, sql),
      params,
    );
    return { append: chainAppend(rows[0], false), alongside: alongside.read(rows[0].alongside) };
  }

  /**
   * Stores a checkpoint and marks the head signed up to it, in one statement. An anchor replaces a checkpoint at the same seq
   * (retention only, which has set the prune flag); any other kind keeps the one already there.
   */
  async insertCheckpoint(tenantId: string, checkpoint: SignedCheckpoint, tx: Tx): Promise<void> {
    const conflict =
      checkpoint.purpose === 'anchor'
        ? `DO UPDATE SET hash = EXCLUDED.hash, purpose = EXCLUDED.purpose, signed_at = EXCLUDED.signed_at,
             key_id = EXCLUDED.key_id, signature = EXCLUDED.signature`
        : 'DO NOTHING';
    await tx.manager.query(
      `WITH stored AS (
         INSERT INTO audit_checkpoints (tenant_id, seq, hash, purpose, signed_at, key_id, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, seq) ${conflict}
       )
       UPDATE audit_heads
       SET checkpointed_seq = GREATEST(checkpointed_seq, $2),
           unsigned_since = CASE WHEN seq <= $2 THEN NULL ELSE unsigned_since END
       WHERE tenant_id = $1`,
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

interface AppendRow {
  head: HeadRow | null;
  open: boolean;
  /** The written entries' hashes (64 hex digits each) in seq order, concatenated: no array literal to parse. */
  hashes: string;
  stored: Record<string, StoredAuditEvent> | null;
}

/** $1–$9 of the append statement (see {@link appendChainedSql}). */
function appendParams(
  tenantId: string,
  inputs: ChainInput[],
  now: Date,
  guard: CheckpointGuard | null,
): unknown[] {
  return [
    tenantId,
    inputs.map((i) => i.writer),
    inputs.map((i) => i.eventId),
    `[${inputs.map((i) => i.canonical).join(',')}]`,
    JSON.stringify(tenantId),
    now,
    guard !== null,
    guard?.entries ?? 0,
    guard?.seconds ?? 0,
  ];
}

/** What the append statement did, or null when it wrote nothing and the locked path must run. */
function chainAppend(row: AppendRow, locked: boolean): ChainAppend | null {
  if (!row.head || !row.open) {
    if (locked) throw new Error('audit append: the chain head is not locked by this transaction');
    return null;
  }
  const stored = new Map(Object.entries(row.stored ?? {}).map(([n, event]) => [Number(n) - 1, event]));
  return { head: toHead(row.head), hashes: splitHashes(row.hashes), stored };
}

function splitHashes(joined: string): string[] {
  if (joined.length % 64 !== 0) throw new Error('audit append: the statement returned a malformed hash list');
  const hashes = new Array<string>(joined.length / 64);
  for (let i = 0; i < hashes.length; i++) hashes[i] = joined.slice(i * 64, i * 64 + 64);
  return hashes;
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

/** A unique violation of (tenant, writer, event id): another writer stored one of the ids first. */
function isWriterEventIdConflict(error: unknown): boolean {
  const driver = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  return driver?.code === '23505' && driver.constraint === 'audit_entries_writer_event_id_idx';
}

/** The uniqueness key of a stored event, as the unique index has it: (writer, event id). */
export function writerEventKey(writer: string, eventId: string): string {
  return `${writer}\u0000${eventId}`;
}
