import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  REMOTE_TRANSPORTS,
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
  type FleetSyncResult,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { Transactions } from '../../core/database/transactions.js';
import { conflict, DomainError, invalid } from '../../core/errors/domain-error.js';
import { redactArgs, sanitizeUrl, scrubSecrets } from '../../../libs/redaction/src/index.js';
import { AuditService, type AuditAction } from '../audit/audit.service.js';
import type { FleetServerDto, FleetSyncDto } from './dto/fleet-sync.dto.js';
import { FleetEnrollmentService, PushRefused } from './fleet-enrollment.service.js';
import {
  agentKey,
  FleetSyncRepository,
  type AgentRow,
  type ServerRow,
  type UpstreamPair,
} from './fleet-sync.repository.js';

const IDEMPOTENCY_SCOPE = 'fleet.sync';

/**
 * `POST /v1/fleet/sync`: one endpoint's whole current inventory, written in one transaction.
 * Upsert key: (tenant, source_id, client, agent name). Agents and servers the endpoint no longer reports are
 * removed. Remote (name, url) pairs get their stable discovery names here, on the write path.
 */
@Injectable()
export class FleetSyncService {
  constructor(
    private readonly repository: FleetSyncRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly enrollment: FleetEnrollmentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A push, admitted by endpoint enrollment; a refused push writes nothing but its audit record. */
  async sync(principal: Principal, payload: FleetSyncDto, idempotencyKey?: string): Promise<FleetSyncResult> {
    try {
      this.enrollment.checkBinding(principal, payload.source_id);
      return await this.write(principal, payload, idempotencyKey);
    } catch (error) {
      if (error instanceof PushRefused) await this.enrollment.recordRefusal(principal, error);
      throw error;
    }
  }

  private async write(
    principal: Principal,
    payload: FleetSyncDto,
    idempotencyKey?: string,
  ): Promise<FleetSyncResult> {
    if (idempotencyKey !== undefined && !SOURCE_ID_PATTERN.test(idempotencyKey)) {
      throw invalid('Idempotency-Key', SOURCE_ID_RULE);
    }
    const { agents, servers, upstreams } = normalise(payload);
    // Only a retryable request needs its body's hash (serialising a large inventory costs a pass over it).
    const requestHash = idempotencyKey
      ? createHash('sha256').update(JSON.stringify(payload)).digest('hex')
      : '';
    const now = new Date();

    return this.transactions.run(async (unit) => {
      const tx = this.repository.within(unit, principal.tenantId);
      if (idempotencyKey) {
        const earlier = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
        if (earlier) return replay(earlier, requestHash);
        // Concurrent retries with one key: the first claims it, the others wait here and then replay.
        await tx.lockIdempotencyKey(IDEMPOTENCY_SCOPE, idempotencyKey);
        const raced = await tx.findIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey);
        if (raced) return replay(raced, requestHash);
      }
      const { credential, enrolled } = await this.enrollment.admit(principal, payload.source_id, unit);

      const { inserted, removed, unregistered } = await tx.writeInventory(
        {
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
        },
        agents,
        servers,
        upstreams,
        now,
      );
      await tx.nameUpstreams(unregistered, now);

      const result: FleetSyncResult = {
        source_id: payload.source_id,
        synced: agents.length,
        new: inserted,
        updated: agents.length - inserted,
      };
      if (idempotencyKey) await tx.saveIdempotent(IDEMPOTENCY_SCOPE, idempotencyKey, requestHash, result);
      // Then the quota, the last fleet write: rolling back here undoes the whole sync.
      // A sync that adds and removes no agent (the steady state) leaves the count, and its row lock, alone.
      const total = inserted === removed ? 0 : await tx.addAgents(inserted - removed);
      const limit = this.config.fleetMaxAgentsPerTenant;
      if (inserted > removed && total > limit) {
        const current = total - (inserted - removed);
        throw new DomainError(
          'QUOTA_EXCEEDED',
          `fleet agent quota exceeded: the tenant has ${current} of ${limit} agents and this sync would add ${inserted - removed}`,
          { quota: 'fleet_agents', limit, current, adding: inserted - removed },
        );
      }
      // Last, with the enrollment's record when this push enrolled the endpoint: the tenant's chain head is
      // locked from here to commit only, so concurrent syncs of one tenant overlap until this point.
      const synced: AuditAction = {
        type: 'fleet.synced',
        resource_type: 'fleet_endpoint',
        resource_id: payload.source_id,
        details: {
          agents: result.synced,
          new: result.new,
          updated: result.updated,
          removed,
          servers: servers.length,
        },
      };
      await this.audit.recordAll(principal, enrolled ? [enrolled, synced] : [synced], unit);
      // Shown once: never part of the stored idempotent answer.
      return credential ? { ...result, endpoint_credential: credential } : result;
    });
  }
}

function replay(
  earlier: { requestHash: string; response: FleetSyncResult },
  requestHash: string,
): FleetSyncResult {
  if (earlier.requestHash !== requestHash) {
    throw conflict('this Idempotency-Key was already used with a different request body');
  }
  return { ...earlier.response, idempotent_replay: true };
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
