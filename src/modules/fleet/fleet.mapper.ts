import type {
  FleetAgentServerView,
  FleetAgentView,
  FleetServerView,
} from '../../../libs/contracts/src/index.js';
import type { AgentRecord, FleetServerGroup, ServerRecord } from './fleet-read.repository.js';

const iso = (d: Date) => new Date(d).toISOString();

export function toAgentView(a: AgentRecord): FleetAgentView {
  return {
    id: a.id,
    source_id: a.source_id,
    client: a.client,
    name: a.name,
    config_paths: a.config_paths,
    server_count: a.server_count,
    endpoint: {
      source_id: a.source_id,
      hostname: a.hostname,
      os: a.os,
      os_release: a.os_release,
      owner: a.owner,
      environment: a.environment,
      tags: a.tags,
      warnings: a.inventory_warnings,
      last_synced_at: iso(a.last_synced_at),
    },
    first_seen_at: iso(a.first_seen_at),
    last_seen_at: iso(a.last_seen_at),
  };
}

export function toServerView(s: ServerRecord): FleetAgentServerView {
  const live = s.introspection?.status === 'ok' ? (s.introspection.tools ?? []) : null;
  return {
    id: s.id,
    name: s.name,
    transport: s.transport,
    command: s.command,
    args: s.args,
    url: s.url,
    declared_tools: s.declared_tools,
    tools: live ?? s.declared_tools,
    introspection: s.introspection,
    auth_mode: s.auth_mode,
    credential_env_names: s.credential_env_names,
    credential_header_names: s.credential_header_names,
    config_path: s.config_path,
    scope: s.scope,
    project_path: s.project_path,
    first_seen_at: iso(s.first_seen_at),
    last_seen_at: iso(s.last_seen_at),
  };
}

export function toServerGroupView(g: FleetServerGroup): FleetServerView {
  return {
    name: g.name,
    transport: g.transport,
    command: g.command,
    url: g.url,
    declared_tools: g.declared_tools,
    tools: g.tools.length ? g.tools : g.declared_tools,
    auth_modes: g.auth_modes,
    credential_env_names: g.credential_env_names,
    credential_header_names: g.credential_header_names,
    agent_count: g.agent_count,
    endpoint_count: g.endpoint_count,
    source_agents: g.source_agents,
    first_seen_at: iso(g.first_seen_at),
    last_seen_at: iso(g.last_seen_at),
  };
}
