import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RuntimeAuditEvent } from '../../libs/contracts/src/index.js';
import type { SignedBundle } from '../../libs/policy/src/index.js';

export interface FakeControlPlane {
  url: string;
  /** Gateway key → tenant it belongs to. */
  gatewayKeys: Map<string, string>;
  /** Gateway key → its role at `/v1/auth/me` (default "gateway"). */
  keyRoles: Map<string, string>;
  /** Client API keys the introspection answers as active (for the tenant named). */
  clientKeys: Map<string, { tenant: string; role: string; key_id: string }>;
  /** Per tenant; `approval` defaults to "approved" (set `null` to omit the field, as an older control plane). */
  upstreams: Map<
    string,
    Array<{
      name: string;
      url: string;
      transport: 'http' | 'https' | 'sse';
      approval?: 'pending' | 'approved' | 'blocked' | null;
    }>
  >;
  audit: Array<RuntimeAuditEvent & { tenant: string }>;
  /** Per tenant: the bundle served at /v1/policy/bundle (404 when absent). */
  bundles: Map<string, SignedBundle>;
  verificationKeys: Array<{ key_id: string; alg: 'Ed25519'; public_key_pem: string }>;
  /** When false, every request is dropped (connection reset): the control plane is "down". */
  up: boolean;
  /** When true, only the bundle route fails (503): the control plane answers discovery but cannot serve policy. */
  bundleDown: boolean;
  requests: Array<{ method: string; path: string; ifNoneMatch?: string }>;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for the control plane speaking exactly the contracts the gateway uses: discovery,
 * introspection (active only for keys of the calling gateway key's own tenant), audit ingest, and the signed
 * policy bundle (`ETag: "<version>.<key_id>"`, `If-None-Match` → 304) with its verification keys.
 */
export async function startFakeControlPlane(): Promise<FakeControlPlane> {
  const state: Omit<FakeControlPlane, 'url' | 'close'> = {
    gatewayKeys: new Map(),
    keyRoles: new Map(),
    clientKeys: new Map(),
    upstreams: new Map(),
    audit: [],
    bundles: new Map(),
    verificationKeys: [],
    up: true,
    bundleDown: false,
    requests: [],
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (!state.up) {
        req.socket.destroy();
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      state.requests.push({
        method: req.method ?? '',
        path,
        ifNoneMatch: req.headers['if-none-match'] as string | undefined,
      });
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const tenant = state.gatewayKeys.get(token);
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (!tenant) return json(401, { error: { code: 'UNAUTHENTICATED', message: 'no', request_id: 'r' } });
      if (req.method === 'GET' && path === '/v1/gateway/upstreams/discovered') {
        const upstreams = (state.upstreams.get(tenant) ?? []).map(({ approval, ...u }) => ({
          ...u,
          auth: 'none',
          source_agents: ['laptop'],
          source_agent_count: 1,
          ...(approval === null ? {} : { approval: approval ?? 'approved' }),
        }));
        return json(200, {
          tenant_id: tenant,
          source: 'fleet_scan_aggregate',
          generated_at: new Date().toISOString(),
          upstreams,
          conflicts: [],
        });
      }
      if (req.method === 'GET' && path === '/v1/auth/me') {
        const role = state.keyRoles.get(token) ?? 'gateway';
        return json(200, {
          tenant_id: tenant,
          role,
          subject: `key:${role}`,
          auth_method: 'api_key',
          key_id: 'gk',
          permissions: [],
        });
      }
      if (req.method === 'POST' && path === '/v1/auth/introspect') {
        const key = state.clientKeys.get((JSON.parse(body) as { token: string }).token);
        if (!key || key.tenant !== tenant) return json(200, { active: false });
        return json(200, {
          active: true,
          tenant_id: tenant,
          role: key.role,
          subject: `key:${key.key_id}`,
          key_id: key.key_id,
          permissions: [],
        });
      }
      if (req.method === 'POST' && path === '/v1/proxy/audit') {
        const batch = JSON.parse(body) as { events: RuntimeAuditEvent[] };
        for (const event of batch.events) state.audit.push({ ...event, tenant });
        return json(200, {
          accepted: batch.events.length,
          duplicates: 0,
          conflicts: 0,
          redacted: 0,
          duplicate_event_ids: [],
          conflict_event_ids: [],
          first_seq: 1,
          last_seq: 1,
        });
      }
      if (req.method === 'GET' && path === '/v1/policy/bundle') {
        if (state.bundleDown)
          return json(503, { error: { code: 'UNAVAILABLE', message: 'policy store down', request_id: 'r' } });
        const bundle = state.bundles.get(tenant);
        if (!bundle)
          return json(404, { error: { code: 'NOT_FOUND', message: 'no policy', request_id: 'r' } });
        const etag = `"${bundle.payload.version}.${bundle.key_id}"`;
        if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
        return json(200, bundle, { etag });
      }
      if (req.method === 'GET' && path === '/v1/policy/verification-key') {
        return json(200, { current_key_id: state.verificationKeys[0]?.key_id, keys: state.verificationKeys });
      }
      return json(404, { error: { code: 'NOT_FOUND', message: 'no route', request_id: 'r' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake = state as FakeControlPlane;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
