import type { MigrationInterface, QueryRunner } from 'typeorm';

const REMOTE = `('http', 'https', 'sse')`;

/**
 * `discovery_generations`: per tenant, a generation that every commit changing what
 * `GET /v1/gateway/upstreams/discovered` aggregates moves forward, in the writing transaction, by row triggers on the
 * tables it reads. A replica keeps a tenant's answer with the generation read in the same snapshot (DiscoveryAnswers)
 * and serves it while the committed generation is still that one: whoever wrote (the application, another replica,
 * SQL), a change is in the very next request, by snapshot visibility alone (no NOTIFY, no listening connection).
 *
 * The generation is the sum of the tenant's rows' `n`, and a change adds a row (`n` = 1) rather than updating one:
 * writers take no lock, so two transactions that change one tenant's upstreams do not wait for each other (a counter
 * row would be locked from the first changed row to the commit: measured, the bulk's plain INSERTs at concurrency
 * 8 ran at ~0.6× the NOTIFY version). Only what commits is summed, so the sum moves with every commit, in any order.
 * A reader folds a tenant's rows into one when it finds many (DiscoveryRepository.compact: one statement that
 * deletes them and inserts their sum, so the sum is the same before and after, for every snapshot).
 *
 * Once per transaction and tenant: the tenants a transaction has changed are in a transaction-local setting
 * (`agent_bom.discovery_bumped`, reverted with a rolled-back subtransaction like the row itself).
 *
 * No foreign key to `tenants`: rows outlive their tenant, so a tenant id deleted and created again never goes back to
 * a generation a replica may still keep an answer for. A tenant without rows is at generation 0.
 *
 * Only real changes bump. Every fleet sync upserts every row of its endpoint (`ON CONFLICT DO UPDATE`, for
 * `last_seen_at`): those updates change no column discovery reads, and the WHEN conditions (evaluated by the
 * executor, no PL/pgSQL call) keep them silent, so a fleet that syncs all the time keeps the answer.
 * - `fleet_servers`: a remote (http, https, sse) row inserted or deleted; an update of a row remote before or after
 *   that changes its name, URL, transport, agent or tenant. Deleting an agent or an endpoint reaches its servers by
 *   `ON DELETE CASCADE`, whose deletes fire these triggers too.
 * - `fleet_agents`: its endpoint or source id changes (the anti-join of scan sources reads both).
 * - `fleet_endpoints`: its hostname (a source label) or source id changes.
 * - `scan_upstreams`: a row inserted or deleted, or an update of anything but `scan_id` and `seen_at` (a re-stored
 *   identical scan updates only those: ScansRepository.replaceUpstreams).
 * - `upstream_names`: any insert, update or delete.
 * - a TRUNCATE of any of them: every tenant.
 */
export class DiscoveryGenerations1764401300000 implements MigrationInterface {
  name = 'DiscoveryGenerations1764401300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE discovery_generations (
        tenant_id  text NOT NULL,
        n          bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX discovery_generations_tenant_idx ON discovery_generations (tenant_id)`);
    await q.query(`
      CREATE FUNCTION discovery_bump(tenant text) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        bumped text := coalesce(current_setting('agent_bom.discovery_bumped', true), '');
      BEGIN
        IF position(E'\\n' || tenant || E'\\n' IN bumped) > 0 THEN
          RETURN;
        END IF;
        INSERT INTO discovery_generations (tenant_id, n) VALUES (tenant, 1);
        PERFORM set_config('agent_bom.discovery_bumped', bumped || E'\\n' || tenant || E'\\n', true);
      END $$`);
    // Both tenants when a row changes tenant (no path does; it costs nothing to be right).
    await q.query(`
      CREATE FUNCTION discovery_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'DELETE' THEN
          PERFORM discovery_bump(NEW.tenant_id);
        END IF;
        IF TG_OP = 'DELETE' THEN
          PERFORM discovery_bump(OLD.tenant_id);
        ELSIF TG_OP = 'UPDATE' THEN
          IF OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
            PERFORM discovery_bump(OLD.tenant_id);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION discovery_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO discovery_generations (tenant_id, n)
          SELECT id, 1 FROM tenants UNION SELECT tenant_id, 1 FROM discovery_generations;
        RETURN NULL;
      END $$`);
    const row = (table: string, events: string, when = '') =>
      q.query(`
        CREATE TRIGGER ${table}_discovery_${events.toLowerCase().replace(/ or /g, '_')}
          AFTER ${events} ON ${table} FOR EACH ROW ${when ? `WHEN (${when})` : ''}
          EXECUTE FUNCTION discovery_changed()`);
    const truncate = (table: string) =>
      q.query(`
        CREATE TRIGGER ${table}_discovery_truncate AFTER TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION discovery_truncated()`);

    await row('fleet_servers', 'INSERT', `NEW.transport IN ${REMOTE}`);
    await row('fleet_servers', 'DELETE', `OLD.transport IN ${REMOTE}`);
    await row(
      'fleet_servers',
      'UPDATE',
      `(OLD.transport IN ${REMOTE} OR NEW.transport IN ${REMOTE})
       AND (OLD.name, OLD.url, OLD.transport, OLD.agent_id, OLD.tenant_id)
           IS DISTINCT FROM (NEW.name, NEW.url, NEW.transport, NEW.agent_id, NEW.tenant_id)`,
    );
    await row(
      'fleet_agents',
      'UPDATE',
      `(OLD.endpoint_id, OLD.source_id, OLD.tenant_id) IS DISTINCT FROM (NEW.endpoint_id, NEW.source_id, NEW.tenant_id)`,
    );
    await row(
      'fleet_endpoints',
      'UPDATE',
      `(OLD.hostname, OLD.source_id, OLD.tenant_id) IS DISTINCT FROM (NEW.hostname, NEW.source_id, NEW.tenant_id)`,
    );
    await row('scan_upstreams', 'INSERT OR DELETE');
    await row(
      'scan_upstreams',
      'UPDATE',
      `(OLD.name, OLD.url, OLD.transport, OLD.agent, OLD.source_id, OLD.tenant_id)
       IS DISTINCT FROM (NEW.name, NEW.url, NEW.transport, NEW.agent, NEW.source_id, NEW.tenant_id)`,
    );
    await row('upstream_names', 'INSERT OR UPDATE OR DELETE');
    for (const table of TABLES) await truncate(table);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const trigger of [
      'fleet_servers_discovery_insert',
      'fleet_servers_discovery_delete',
      'fleet_servers_discovery_update',
      'fleet_agents_discovery_update',
      'fleet_endpoints_discovery_update',
      'scan_upstreams_discovery_insert_delete',
      'scan_upstreams_discovery_update',
      'upstream_names_discovery_insert_update_delete',
    ]) {
      await q.query(`DROP TRIGGER ${trigger} ON ${trigger.slice(0, trigger.indexOf('_discovery_'))}`);
    }
    for (const table of TABLES) await q.query(`DROP TRIGGER ${table}_discovery_truncate ON ${table}`);
    await q.query(`DROP FUNCTION discovery_truncated()`);
    await q.query(`DROP FUNCTION discovery_changed()`);
    await q.query(`DROP FUNCTION discovery_bump(text)`);
    await q.query(`DROP TABLE discovery_generations`);
  }
}

const TABLES = ['fleet_servers', 'fleet_agents', 'fleet_endpoints', 'scan_upstreams', 'upstream_names'];
