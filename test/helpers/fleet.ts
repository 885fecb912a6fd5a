import type { FleetAgent, FleetServer, FleetSyncPayload } from '../../libs/contracts/src/index.js';

export function stdioServer(name: string, extra: Partial<FleetServer> = {}): FleetServer {
  return {
    name,
    transport: 'stdio',
    command: 'npx',
    args: ['-y', `@modelcontextprotocol/server-${name}`],
    auth_mode: 'none',
    config_path: '/home/me/.config/Claude/claude_desktop_config.json',
    ...extra,
  };
}

export function remoteServer(name: string, url: string, extra: Partial<FleetServer> = {}): FleetServer {
  return {
    name,
    transport: url.endsWith('/sse') ? 'sse' : url.startsWith('https:') ? 'https' : 'http',
    url,
    auth_mode: 'none',
    config_path: '/home/me/.cursor/mcp.json',
    ...extra,
  };
}

export function agent(
  name: string,
  servers: FleetServer[],
  client: FleetAgent['client'] = 'claude-desktop',
): FleetAgent {
  return { name, client, servers };
}

export function payload(sourceId: string, agents: FleetAgent[], hostname?: string): FleetSyncPayload {
  return { source_id: sourceId, endpoint: { hostname: hostname ?? sourceId, os: 'linux' }, agents };
}

/** Row counts of every fleet table, to prove a refused request wrote nothing. */
export async function fleetCounts(query: (sql: string) => Promise<unknown[]>): Promise<string> {
  return JSON.stringify(
    await query(`SELECT (SELECT count(*) FROM fleet_endpoints) AS e, (SELECT count(*) FROM fleet_agents) AS a,
                        (SELECT count(*) FROM fleet_servers) AS s, (SELECT count(*) FROM upstream_names) AS u,
                        (SELECT count(*) FROM idempotency_keys) AS i`),
  );
}
