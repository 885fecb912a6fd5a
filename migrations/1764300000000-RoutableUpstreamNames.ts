import type { MigrationInterface, QueryRunner } from 'typeorm';
import { UPSTREAM_NAME, upstreamName } from '../libs/contracts/src/index.js';

interface NameRow {
  tenant_id: string;
  base_name: string;
  url: string;
  assigned_name: string;
  ordinal: number;
}

/**
 * Discovery used to hand out a reported server name as it was (`My Server`, `ünïcode`, 200 characters plus
 * `-1`), which no gateway routes. Every such registered name is renamed, in the order first seen, to the name
 * discovery now gives ({@link upstreamName}, with the next free suffix), and an approval decided under the old
 * name moves with it. Routable names are left exactly as they are.
 */
export class RoutableUpstreamNames1764300000000 implements MigrationInterface {
  name = 'RoutableUpstreamNames1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const rows = (await q.query(
      `SELECT tenant_id, base_name, url, assigned_name, ordinal FROM upstream_names
        ORDER BY tenant_id, first_seen_at, ordinal`,
    )) as NameRow[];
    const renamed = rows.filter((r) => !UPSTREAM_NAME.test(r.assigned_name));
    const key = (...parts: Array<string | number>) => parts.join('\u0000');
    const names = new Set(rows.map((r) => key(r.tenant_id, r.assigned_name)));
    const ordinals = new Set(
      rows.filter((r) => !renamed.includes(r)).map((r) => key(r.tenant_id, r.base_name, r.ordinal)),
    );
    // The renamed rows' suffixes are handed out again in the order first seen: park their ordinals first.
    for (const row of renamed) {
      await q.query(
        `UPDATE upstream_names SET ordinal = -1 - ordinal WHERE tenant_id = $1 AND base_name = $2 AND url = $3`,
        [row.tenant_id, row.base_name, row.url],
      );
    }
    for (const row of renamed) {
      let ordinal = 0;
      while (
        names.has(key(row.tenant_id, upstreamName(row.base_name, ordinal))) ||
        ordinals.has(key(row.tenant_id, row.base_name, ordinal))
      ) {
        ordinal++;
      }
      const name = upstreamName(row.base_name, ordinal);
      names.add(key(row.tenant_id, name));
      ordinals.add(key(row.tenant_id, row.base_name, ordinal));
      await q.query(
        `UPDATE upstream_names SET assigned_name = $4, ordinal = $5
          WHERE tenant_id = $1 AND base_name = $2 AND url = $3`,
        [row.tenant_id, row.base_name, row.url, name, ordinal],
      );
      await q.query(`UPDATE upstream_approvals SET name = $3 WHERE tenant_id = $1 AND name = $2`, [
        row.tenant_id,
        row.assigned_name,
        name,
      ]);
    }
  }

  async down(): Promise<void> {
    // The old names were never routable; the new ones stay.
  }
}
