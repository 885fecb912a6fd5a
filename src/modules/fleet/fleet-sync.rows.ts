import { REMOTE_TRANSPORTS, SOURCE_ID_PATTERN, SOURCE_ID_RULE } from '../../../libs/contracts/src/index.js';
import { invalid } from '../../core/errors/domain-error.js';
import { redactArgs, sanitizeUrl, scrubSecrets } from '../../../libs/redaction/src/index.js';
import type { FleetServerDto, FleetSyncDto } from './dto/fleet-sync.dto.js';
import {
  agentKey,
  type AgentRow,
  type EndpointRow,
  type ServerRow,
  type UpstreamPair,
} from './fleet-sync.repository.js';

/** A sync's rows as the write path stores them, shaped and checked before any transaction. */
export interface SyncRows {
  endpoint: EndpointRow;
  agents: AgentRow[];
  servers: ServerRow[];
  upstreams: UpstreamPair[];
}

/**
 * Checks what the DTO cannot (an Idempotency-Key's form, uniqueness, transport/URL agreement) and shapes the
 * rows: free text scrubbed of secrets, URLs canonical and without credentials.
 */
export function syncRows(payload: FleetSyncDto, idempotencyKey: string | undefined): SyncRows {
  if (idempotencyKey !== undefined && !SOURCE_ID_PATTERN.test(idempotencyKey)) {
    throw invalid('Idempotency-Key', SOURCE_ID_RULE);
  }
  const { agents, servers, upstreams } = normalise(payload);
  const endpoint: EndpointRow = {
    source_id: payload.source_id,
    hostname: scrubbed(payload.endpoint?.hostname),
    os: payload.endpoint?.os ?? null,
    os_release: scrubbed(payload.endpoint?.os_release),
    agent_bom_version: scrubbed(payload.endpoint?.agent_bom_version),
    owner: scrubbed(payload.endpoint?.owner),
    environment: scrubbed(payload.endpoint?.environment),
    tags: payload.endpoint?.tags
      ? [...new Set(payload.endpoint.tags.map((t) => scrubSecrets(t.trim()).text))].sort()
      : null,
    warnings: (payload.warnings ?? []).map((w) => ({
      path: scrubSecrets(w.path).text,
      client: w.client,
      message: scrubSecrets(w.message).text,
    })),
  };
  return { endpoint, agents, servers, upstreams };
}

/** Checks what the DTO cannot (uniqueness, transport/URL agreement) and shapes rows for the batch upserts. */
function normalise(payload: FleetSyncDto) {
  const agents: AgentRow[] = [];
  const servers: ServerRow[] = [];
  const upstreams: UpstreamPair[] = [];
  const seenAgents = new Set<string>();
  payload.agents.forEach((agent, i) => {
    const key = agentKey(agent.client, agent.name);
    if (seenAgents.has(key)) {
      throw invalid(`agents.${i}.name`, `duplicate agent "${agent.name}" for client "${agent.client}"`);
    }
    seenAgents.add(key);
    agents.push({
      client: agent.client,
      name: agent.name,
      config_paths: (agent.config_paths ?? []).map((p) => scrubSecrets(p).text),
    });
    const seenServers = new Set<string>();
    agent.servers.forEach((server, j) => {
      const field = `agents.${i}.servers.${j}`;
      if (seenServers.has(server.name)) throw invalid(`${field}.name`, `duplicate server "${server.name}"`);
      seenServers.add(server.name);
      const row = serverRow(agent, server, field);
      servers.push(row);
      if (row.url && REMOTE_TRANSPORTS.includes(server.transport))
        upstreams.push({ name: row.name, url: row.url, transport: row.transport });
    });
  });
  return { agents, servers, upstreams };
}

/**
 * A server as stored. The body is not trusted to be sanitised: URL, command, args and free text go through the
 * same redaction as the CLI's (libs/redaction), so credential values are never stored whoever the client is.
 * What was removed is kept as a fact: auth mode `url`, and the credential env and header names the args set.
 */
function serverRow(
  agent: { client: string; name: string },
  server: FleetServerDto,
  field: string,
): ServerRow {
  const remote = server.transport !== 'stdio';
  if (remote && !server.url) throw invalid(`${field}.url`, `is required for transport "${server.transport}"`);
  if (!remote && server.url) throw invalid(`${field}.url`, 'must be absent for transport "stdio"');
  const url = server.url ? normaliseUrl(server.url, `${field}.url`) : null;
  const args = redactArgs(server.args ?? []);
  const command = server.command === undefined ? null : redactArgs([server.command]).args[0];
  const introspection = server.introspection ? { ...server.introspection } : null;
  if (introspection?.error !== undefined) introspection.error = scrubSecrets(introspection.error).text;
  const credentialInUrl = url?.hadCredentials || args.urlCredentials;
  return {
    agent_client: agent.client,
    agent_name: agent.name,
    name: server.name,
    transport: server.transport,
    command,
    args: args.args,
    url: url?.href ?? null,
    declared_tools: server.declared_tools ?? [],
    auth_mode: credentialInUrl ? 'url' : server.auth_mode,
    credential_env_names: union(server.credential_env_names, args.envNames),
    credential_header_names: union(server.credential_header_names, args.headerNames),
    config_path: scrubSecrets(server.config_path).text,
    scope: server.scope ?? null,
    project_path: server.project_path === undefined ? null : scrubSecrets(server.project_path).text,
    introspection,
  };
}

function union(given: string[] | undefined, found: string[]): string[] {
  return [...new Set([...(given ?? []), ...found])];
}

function scrubbed(text: string | undefined): string | null {
  return text === undefined ? null : scrubSecrets(text).text;
}

/**
 * Canonical form (lower-case host, no default port) without userinfo, fragment, or secret-looking query values
 * and path segments: credential values are never stored.
 */
function normaliseUrl(text: string, field: string): { href: string; hadCredentials: boolean } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(field, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(field, 'must be http or https');
  const clean = sanitizeUrl(url.href)!;
  return { href: clean.url, hadCredentials: clean.hadCredentials };
}
