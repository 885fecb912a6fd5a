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

/**
 * Pushes like `agent-bom agents` does: with the shared fleet-push key until the endpoint is enrolled, then with
 * the endpoint credential the enrolling push returned (one per source_id).
 */
export function enrollingPusher<R extends { statusCode: number; json(): unknown }>(
  inject: (options: {
    method: 'POST';
    url: string;
    headers: Record<string, string>;
    payload: object;
  }) => Promise<R>,
  sharedKey: string,
) {
  const credentials = new Map<string, string>();
  return async (body: object, headers: Record<string, string> = {}): Promise<R> => {
    const sourceId = String((body as { source_id?: unknown }).source_id);
    const key = credentials.get(sourceId) ?? sharedKey;
    const res = await inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: { authorization: `Bearer ${key}`, ...headers },
      payload: body,
    });
    const credential =
      res.statusCode === 200
        ? (res.json() as { endpoint_credential?: string }).endpoint_credential
        : undefined;
    if (credential) credentials.set(sourceId, credential);
    return res;
  };
}
