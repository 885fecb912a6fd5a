import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_chain_hash`: the audit chain's entry hash (docs/audit.md, "The hash chain") as an ordered aggregate, so
 * the one-statement append chains a commit's events as a running window over their rows, in linear time. Before,
 * a recursive CTE subscripted one array of all the commit's canonical JSON per step, whose cost grew with the
 * array: quadratic in the commit (a group commit of 5,000 events spent about a second in it, under the head lock).
 *
 * `audit_chain_link(prev, event, seq, first_prev, tenant)` is one link: lower-case hex SHA-256 of
 * `{"event":<event>,"prev_hash":"<prev, or first_prev for the first>","seq":<seq>,"tenant_id":<tenant>}`, where
 * `event` is the event's canonical JSON and `tenant` the tenant id as a JSON string: canonical JSON of
 * {tenant_id, seq, prev_hash, event} with its keys in order, byte for byte what `entryHash` (chain.ts) hashes.
 * Only functions are added: no stored row or hash changes.
 */
export class AuditChainAggregate1764400600000 implements MigrationInterface {
  name = 'AuditChainAggregate1764400600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_chain_link(prev text, event text, seq bigint, first_prev text, tenant text)
      RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to(
          '{"event":' || event || ',"prev_hash":"' || coalesce(prev, first_prev) || '","seq":' || seq
            || ',"tenant_id":' || tenant || '}', 'UTF8')), 'hex')
      $$`);
    await q.query(`
      CREATE AGGREGATE audit_chain_hash(event text, seq bigint, first_prev text, tenant text) (
        SFUNC = audit_chain_link, STYPE = text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP AGGREGATE audit_chain_hash(text, bigint, text, text)`);
    await q.query(`DROP FUNCTION audit_chain_link(text, text, bigint, text, text)`);
  }
}
