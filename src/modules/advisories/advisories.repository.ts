import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Advisory } from '../../../libs/advisories/src/index.js';
import { managerOf, type Tx } from '../../core/database/transactions.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * The shared advisory database. Not tenant-scoped by design (public reference data; see the migration):
 * the only writer is `agent-bom db import`, tenants read it through scans.
 */
@Injectable()
export class AdvisoriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts new advisories and replaces changed ones; identical re-imports write nothing. */
  async upsert(advisories: readonly Advisory[], tx: Tx): Promise<UpsertCounts> {
    if (!advisories.length) return { inserted: 0, updated: 0, unchanged: 0 };
    const m = managerOf(this.dataSource, tx);
    const rows = (await m.query(
      `INSERT INTO advisories (id, modified, published, withdrawn, severity, cvss_score, cvss_vector, aliases, summary, record)
       SELECT r->>'id', (r->>'modified')::timestamptz, (r->>'published')::timestamptz, (r->>'withdrawn')::timestamptz,
              r->>'severity', (r->>'cvss_score')::numeric, r->>'cvss_vector',
              ARRAY(SELECT jsonb_array_elements_text(r->'aliases')), r->>'summary', r
         FROM jsonb_array_elements($1::jsonb) AS r
       ON CONFLICT (id) DO UPDATE SET
              modified = EXCLUDED.modified, published = EXCLUDED.published, withdrawn = EXCLUDED.withdrawn,
              severity = EXCLUDED.severity, cvss_score = EXCLUDED.cvss_score, cvss_vector = EXCLUDED.cvss_vector,
              aliases = EXCLUDED.aliases, summary = EXCLUDED.summary, record = EXCLUDED.record, imported_at = now()
        WHERE advisories.record IS DISTINCT FROM EXCLUDED.record
       RETURNING id, (xmax = 0) AS inserted`,
      [JSON.stringify(advisories)],
    )) as Array<{ id: string; inserted: boolean }>;
    const written = new Set(rows.map((r) => r.id));
    if (written.size) {
      const ids = [...written];
      await m.query(`DELETE FROM advisory_packages WHERE advisory_id = ANY($1::text[])`, [ids]);
      const eco: string[] = [];
      const names: string[] = [];
      const refs: string[] = [];
      const seen = new Set<string>();
      for (const advisory of advisories) {
        if (!written.has(advisory.id)) continue;
        for (const affected of advisory.affected) {
          const key = `${affected.ecosystem}\u0000${affected.name}\u0000${advisory.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          eco.push(affected.ecosystem);
          names.push(affected.name);
          refs.push(advisory.id);
        }
      }
      await m.query(
        `INSERT INTO advisory_packages (ecosystem, name, advisory_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
        [eco, names, refs],
      );
    }
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted, unchanged: advisories.length - rows.length };
  }

  /** Advisories naming any of the (ecosystem, name) pairs, grouped by `ecosystem:name`. */
  async byPackages(keys: ReadonlyArray<readonly [string, string]>): Promise<Map<string, Advisory[]>> {
    const out = new Map<string, Advisory[]>();
    if (!keys.length) return out;
    const rows = (await this.dataSource.query(
      `SELECT p.ecosystem, p.name, a.record
         FROM unnest($1::text[], $2::text[]) AS k(ecosystem, name)
         JOIN advisory_packages p ON p.ecosystem = k.ecosystem AND p.name = k.name
         JOIN advisories a ON a.id = p.advisory_id`,
      [keys.map((k) => k[0]), keys.map((k) => k[1])],
    )) as Array<{ ecosystem: string; name: string; record: Advisory }>;
    for (const row of rows) {
      const key = `${row.ecosystem}:${row.name}`;
      const list = out.get(key) ?? [];
      list.push(row.record);
      out.set(key, list);
    }
    return out;
  }

  async count(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM advisories`)) as Array<{
      n: number;
    }>;
    return row.n;
  }
}
