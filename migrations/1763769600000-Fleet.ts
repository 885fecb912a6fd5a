import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet inventory (endpoints → MCP client agents → MCP servers), the registry that gives discovered upstreams
 * their stable names, and idempotency records for retried pushes.
 */
export class Fleet1763769600000 implements MigrationInterface {
  name = 'Fleet1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fleet_endpoints (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id          text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_id          text NOT NULL,
        hostname           text,
        os                 text,
        os_release         text,
        agent_bom_version  text,
        owner              text,
        environment        text,
        tags               text[] NOT NULL DEFAULT '{}',
        inventory_warnings jsonb NOT NULL DEFAULT '[]',
        first_seen_at      timestamptz NOT NULL,
        last_synced_at     timestamptz NOT NULL,
        UNIQUE (tenant_id, source_id)
      )`);
    await q.query(`
      CREATE TABLE fleet_agents (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id      text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        endpoint_id    uuid NOT NULL REFERENCES fleet_endpoints(id) ON DELETE CASCADE,
        source_id      text NOT NULL,
        client         text NOT NULL,
        name           text NOT NULL,
        config_paths   text[] NOT NULL DEFAULT '{}',
        first_seen_at  timestamptz NOT NULL,
        last_seen_at   timestamptz NOT NULL,
        UNIQUE (tenant_id, source_id, client, name)
      )`);
    await q.query(
      `CREATE INDEX fleet_agents_tenant_seen_idx ON fleet_agents (tenant_id, last_seen_at DESC, id DESC)`,
    );
    await q.query(`
      CREATE TABLE fleet_servers (
        id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id                text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        agent_id                 uuid NOT NULL REFERENCES fleet_agents(id) ON DELETE CASCADE,
        name                     text NOT NULL,
        transport                text NOT NULL CHECK (transport IN ('stdio','http','https','sse')),
        command                  text,
        args                     text[] NOT NULL DEFAULT '{}',
        url                      text,
        declared_tools           text[] NOT NULL DEFAULT '{}',
        auth_mode                text NOT NULL,
        credential_env_names     text[] NOT NULL DEFAULT '{}',
        credential_header_names  text[] NOT NULL DEFAULT '{}',
        config_path              text NOT NULL,
        scope                    text,
        project_path             text,
        introspection            jsonb,
        first_seen_at            timestamptz NOT NULL,
        last_seen_at             timestamptz NOT NULL,
        UNIQUE (agent_id, name)
      )`);
    await q.query(`CREATE INDEX fleet_servers_tenant_name_idx ON fleet_servers (tenant_id, name)`);
    await q.query(`
      CREATE INDEX fleet_servers_remote_idx ON fleet_servers (tenant_id, name, url)
        WHERE transport IN ('http','https','sse')`);
    await q.query(`
      CREATE TABLE upstream_names (
        tenant_id      text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        base_name      text NOT NULL,
        url            text NOT NULL,
        assigned_name  text NOT NULL,
        ordinal        integer NOT NULL,
        first_seen_at  timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, base_name, url),
        UNIQUE (tenant_id, assigned_name),
        UNIQUE (tenant_id, base_name, ordinal)
      )`);
    // Agents per tenant, kept by the sync transaction itself so the quota needs no count(*) and no
    // tenant-wide lock: the row is updated as a sync's last statement and locked only until it commits.
    await q.query(`
      CREATE TABLE fleet_usage (
        tenant_id  text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        agents     integer NOT NULL CHECK (agents >= 0)
      )`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        scope         text NOT NULL,
        key           text NOT NULL,
        request_hash  text NOT NULL,
        response      jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, scope, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE fleet_usage`);
    await q.query(`DROP TABLE upstream_names`);
    await q.query(`DROP TABLE fleet_servers`);
    await q.query(`DROP TABLE fleet_agents`);
    await q.query(`DROP TABLE fleet_endpoints`);
  }
}
