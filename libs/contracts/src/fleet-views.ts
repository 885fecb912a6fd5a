/**
 * The fleet as the API answers it: `GET /v1/fleet`, `GET /v1/fleet/:id`, `GET /v1/fleet/servers` and
 * `GET /v1/fleet/stats`. Times are ISO 8601 strings. Credential *values* never appear, only their names.
 */
import type { FleetIntrospection, FleetWarning } from './fleet.js';

/** The endpoint (machine) an agent runs on, as of its last sync. */
export interface FleetEndpointView {
  source_id: string;
  hostname: string | null;
  os: string | null;
  os_release: string | null;
  owner: string | null;
  environment: string | null;
  tags: string[];
  /** What the endpoint could not read at its last sync: when non-empty, its inventory may be incomplete. */
  warnings: FleetWarning[];
  last_synced_at: string;
}

/** One MCP client installation: an item of `GET /v1/fleet`. */
export interface FleetAgentView {
  id: string;
  source_id: string;
  client: string;
  name: string;
  config_paths: string[];
  server_count: number;
  endpoint: FleetEndpointView;
  first_seen_at: string;
  last_seen_at: string;
}

/** One MCP server of one agent, as its config declares it (`GET /v1/fleet/:id`). */
export interface FleetAgentServerView {
  id: string;
  name: string;
  transport: string;
  command: string | null;
  args: string[];
  url: string | null;
  declared_tools: string[];
  /** The live tool list when introspection succeeded, else the declared one. */
  tools: string[];
  introspection: FleetIntrospection | null;
  auth_mode: string;
  credential_env_names: string[];
  credential_header_names: string[];
  config_path: string;
  scope: string | null;
  project_path: string | null;
  first_seen_at: string;
  last_seen_at: string;
}

/** `GET /v1/fleet/:id`: the agent with its servers. */
export interface FleetAgentDetailView extends FleetAgentView {
  servers: FleetAgentServerView[];
}

/**
 * An item of `GET /v1/fleet/servers`: one MCP server across the fleet, grouped by (name, transport, url or
 * command), with the union of what its installations declare.
 */
export interface FleetServerView {
  name: string;
  transport: string;
  command: string | null;
  url: string | null;
  declared_tools: string[];
  /** Tools any installation listed live, else the declared ones. */
  tools: string[];
  auth_modes: string[];
  credential_env_names: string[];
  credential_header_names: string[];
  agent_count: number;
  endpoint_count: number;
  /** Where it is installed (the first 50, by source id, client and agent). */
  source_agents: Array<{ source_id: string; hostname: string | null; client: string; agent: string }>;
  first_seen_at: string;
  last_seen_at: string;
}

/** `GET /v1/fleet/stats`: totals, and counts by client, transport, auth mode and environment (`unset` for none). */
export interface FleetStatsView {
  endpoints: number;
  agents: number;
  servers: number;
  servers_with_credentials: number;
  last_synced_at: string | null;
  by_client: Record<string, number>;
  by_transport: Record<string, number>;
  by_auth_mode: Record<string, number>;
  by_environment: Record<string, number>;
}
