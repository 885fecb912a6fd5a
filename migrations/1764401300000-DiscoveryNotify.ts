import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The channel the triggers notify; `DISCOVERY_CHANNEL` in src/modules/discovery/discovery.repository.ts. */
const CHANNEL = 'agent_bom_discovery';
const REMOTE = `('http', 'https', 'sse')`;

/**
 * Triggers that notify `agent_bom_discovery` (payload: the tenant id; `*` after a TRUNCATE) when a commit changes
 * what `GET /v1/gateway/upstreams/discovered` aggregates, so every replica's cached answer (DiscoveryAnswers) is
 * dropped by every writer path, the application's or not. NOTIFY is transactional: nothing is sent on rollback,
 * and one transaction's notifications of a tenant are sent once.
 *
 * Only real changes fire. Every fleet sync upserts every row of its endpoint (`ON CONFLICT DO UPDATE`, for
 * `last_seen_at`): those updates change no column discovery reads, and the WHEN conditions (evaluated by the
 * executor, no PL/pgSQL call) keep them silent, so a fleet that syncs all the time keeps the answer cached.
 * - `fleet_servers`: a remote (http, https, sse) row inserted or deleted; an update of a row remote before or after
 *   that changes its name, URL, transport, agent or tenant. Deleting an agent or an endpoint reaches its servers by
 *   `ON DELETE CASCADE`, whose deletes fire these triggers too, so an agent or endpoint that had remote servers
 *   notifies through them (one that had none changes nothing discovery reads).
 * - `fleet_agents`: its endpoint or source id changes (the anti-join of scan sources reads both).
 * - `fleet_endpoints`: its hostname (a source label) or source id changes.
 * - `scan_upstreams`: a row inserted or deleted, or an update of anything but `scan_id` and `seen_at` (a re-stored
 *   identical scan updates only those: ScansRepository.replaceUpstreams).
 * - `upstream_names`: any insert, update or delete.
 */
export class DiscoveryNotify1764401300000 implements MigrationInterface {
  name = 'DiscoveryNotify1764401300000';

  async up(q: QueryRunner): Promise<void> {
    // Both tenants when a row changes tenant (no path does; it costs nothing to be right).
    await q.query(`
      CREATE FUNCTION discovery_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'DELETE' THEN
          PERFORM pg_notify('${CHANNEL}', NEW.tenant_id);
        END IF;
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${CHANNEL}', OLD.tenant_id);
        ELSIF TG_OP = 'UPDATE' THEN
          IF OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
            PERFORM pg_notify('${CHANNEL}', OLD.tenant_id);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION discovery_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${CHANNEL}', '*');
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
    for (const table of [
      'fleet_servers',
      'fleet_agents',
      'fleet_endpoints',
      'scan_upstreams',
      'upstream_names',
    ]) {
      await truncate(table);
    }
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
    for (const table of [
      'fleet_servers',
      'fleet_agents',
      'fleet_endpoints',
      'scan_upstreams',
      'upstream_names',
    ]) {
      await q.query(`DROP TRIGGER ${table}_discovery_truncate ON ${table}`);
    }
    await q.query(`DROP FUNCTION discovery_truncated()`);
    await q.query(`DROP FUNCTION discovery_changed()`);
  }
}
