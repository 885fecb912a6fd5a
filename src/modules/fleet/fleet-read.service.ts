import { Injectable } from '@nestjs/common';
import type {
  FleetAgentDetailView,
  FleetAgentView,
  FleetServerView,
  FleetStatsView,
} from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { notFound } from '../../core/errors/domain-error.js';
import { decodeCursor, encodeCursor, timeIdCursor } from '../../core/http/cursor.js';
import type { FleetQuery, FleetServersQuery } from './dto/fleet-query.dto.js';
import { FleetReadRepository } from './fleet-read.repository.js';
import { toAgentView, toServerGroupView, toServerView } from './fleet.mapper.js';

@Injectable()
export class FleetReadService {
  constructor(private readonly fleet: FleetReadRepository) {}

  async list(
    principal: Principal,
    query: FleetQuery,
  ): Promise<{ items: FleetAgentView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const rows = await this.fleet.listAgents(principal.tenantId, {
      client: query.client,
      sourceId: query.source_id,
      environment: query.environment,
      transport: query.transport,
      search: query.q,
      limit: limit + 1,
      after: query.cursor ? timeIdCursor.decode(query.cursor) : undefined,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toAgentView),
      next_cursor: rows.length > limit && last ? timeIdCursor.encode(last.last_seen_at, last.id) : null,
    };
  }

  async get(principal: Principal, id: string): Promise<FleetAgentDetailView> {
    const agent = await this.fleet.findAgent(principal.tenantId, id);
    if (!agent) throw notFound('fleet agent');
    const servers = await this.fleet.serversOfAgent(principal.tenantId, id);
    return { ...toAgentView(agent), servers: servers.map(toServerView) };
  }

  async stats(principal: Principal): Promise<FleetStatsView> {
    const { totals, byClient, byTransport, byAuthMode, byEnvironment } = await this.fleet.stats(
      principal.tenantId,
    );
    return {
      endpoints: totals.endpoints,
      agents: totals.agents,
      servers: totals.servers,
      servers_with_credentials: totals.servers_with_credentials,
      last_synced_at: totals.last_synced_at ? new Date(totals.last_synced_at).toISOString() : null,
      by_client: byClient,
      by_transport: byTransport,
      by_auth_mode: byAuthMode,
      by_environment: byEnvironment,
    };
  }

  async servers(
    principal: Principal,
    query: FleetServersQuery,
  ): Promise<{ items: FleetServerView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeCursor(query.cursor, ['string', 'string']) : undefined;
    const rows = await this.fleet.serverGroups(principal.tenantId, {
      transport: query.transport,
      authMode: query.auth_mode,
      search: query.q,
      limit: limit + 1,
      after: after && { name: after[0] as string, key: after[1] as string },
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toServerGroupView),
      next_cursor: rows.length > limit && last ? encodeCursor([last.name, last.group_key]) : null,
    };
  }
}
