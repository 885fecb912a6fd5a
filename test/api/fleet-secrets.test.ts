import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FleetSyncPayload } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { everyStoredValue } from '../helpers/stored.js';

/**
 * Issue 10, finding 2: the control plane trusted the body, so a client that does not sanitise (anything but our
 * CLI) got credential values stored and served back. The server now applies the CLI's redaction (one shared
 * implementation, libs/redaction) on every ingest path.
 */
const SECRETS = [
  'sk-live-4f9a8b7c6d5e4f3a2b1c0d9e',
  'qv8Zt3LmN0pXwR7sK2dY5hJ9gF4bC6aE',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'hunter2-planted-password',
  'AKIAIOSFODNN7EXAMPLE',
];

describe('fleet: credential values are redacted on ingest, whoever the client is', () => {
  let t: TestApp;
  let viewer: string;
  const served: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    viewer = (await createKey(t.app, tenant, 'viewer')).raw;
    const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    const body: FleetSyncPayload = {
      source_id: 'raw-client',
      endpoint: { hostname: 'box', os: 'linux', owner: `ops password=${SECRETS[3]}` },
      agents: [
        {
          name: 'cursor',
          client: 'cursor',
          servers: [
            {
              name: 'jira',
              transport: 'https',
              url: `https://jira.example/mcp?api_key=${SECRETS[0]}&token=${SECRETS[1]}&page=2`,
              auth_mode: 'none',
              config_path: '/home/me/.cursor/mcp.json',
            },
            {
              name: 'github',
              transport: 'stdio',
              command: 'npx',
              args: [
                '-y',
                'server-github',
                '--api-key',
                SECRETS[0],
                `--token=${SECRETS[2]}`,
                `AWS_KEY=${SECRETS[4]}`,
              ],
              auth_mode: 'none',
              config_path: '/home/me/.cursor/mcp.json',
              introspection: { status: 'failed', error: `401 for Bearer ${SECRETS[1]}` },
            },
          ],
        },
      ],
      warnings: [{ path: '/home/me/.cursor/mcp.json', message: `could not parse near token=${SECRETS[1]}` }],
    };
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/fleet/sync',
      headers: bearer(push),
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const list = await t.app.inject({ method: 'GET', url: '/v1/fleet', headers: bearer(viewer) });
    served.push(list.body);
    for (const item of list.json().items as Array<{ id: string }>) {
      served.push(
        (await t.app.inject({ method: 'GET', url: `/v1/fleet/${item.id}`, headers: bearer(viewer) })).body,
      );
    }
    served.push(
      (await t.app.inject({ method: 'GET', url: '/v1/fleet/servers', headers: bearer(viewer) })).body,
    );
    served.push(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/gateway/upstreams/discovered',
          headers: bearer(viewer),
        })
      ).body,
    );
  });
  afterAll(() => t.close());

  it('no planted value is served by /v1/fleet/{id}, /v1/fleet/servers or discovery', () => {
    for (const secret of SECRETS) expect(served.join('\n')).not.toContain(secret);
  });

  it('no planted value is stored in any table', async () => {
    const stored = await everyStoredValue(t);
    for (const secret of SECRETS) expect(stored).not.toContain(secret);
  });

  it('what is kept says that credentials were there, by name', () => {
    const servers = JSON.parse(served[served.length - 2]).items as Array<Record<string, unknown>>;
    const jira = servers.find((s) => s.name === 'jira')!;
    expect(jira).toMatchObject({ auth_modes: ['url'] });
    expect(String(jira.url)).toContain('page=2');
    const detail = JSON.parse(served[1]).servers as Array<Record<string, unknown>>;
    const github = detail.find((s) => s.name === 'github')!;
    expect(github.args).toEqual(
      expect.arrayContaining(['--api-key', '[redacted]', '--token=[redacted]', 'AWS_KEY=[redacted]']),
    );
    expect(github.credential_env_names).toEqual(expect.arrayContaining(['AWS_KEY']));
  });
});
