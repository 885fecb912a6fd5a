import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, payload, remoteServer, enrollingPusher } from '../helpers/fleet.js';

const SECRET = 'ghp_SCANdiscoverySECRET0123456789abcdefXY';

/** A results-push body with the given servers under one Cursor agent (no packages, no findings). */
function report(sourceId: string, servers: object[], hostname?: string) {
  return {
    schema_version: '1',
    document_type: 'agent-bom.scan',
    scan_id: randomUUID(),
    generated_at: new Date().toISOString(),
    source_id: sourceId,
    ...(hostname ? { endpoint: { hostname } } : {}),
    advisory_source: { description: 'test' },
    agents: [{ name: 'cursor', client: 'cursor', servers }],
    packages: [],
    findings: [],
    summary: {},
    warnings: [],
  };
}
const remote = (name: string, url: string, transport = 'https') => ({
  name,
  transport,
  url,
  auth_mode: 'none',
  config_path: '/home/u/.cursor/mcp.json',
});

/**
 * Discovery from pushed scan results on a real PostgreSQL: URLs compared in the fleet's canonical form (one
 * upstream for a synced and a scanned spelling of one URL), credential values never reach the answer, only
 * http(s) URLs of remote transports count, names are made routable by the shared rule, and a refused push
 * registers nothing (`bad-input`).
 */
describe('discovery from pushed scan results', () => {
  let t: TestApp;
  let tenant: string;
  const keys: Record<string, string> = {};
  const push = (body: object) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/results/push',
      headers: bearer(keys.push),
      payload: body,
    });
  const discover = async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(keys.gateway),
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const count = async (table: string) =>
    ((await t.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as Array<{ n: number }>)[0].n;

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    keys.push = (await createKey(t.app, tenant, 'fleet-push')).raw;
    keys.gateway = (await createKey(t.app, tenant, 'gateway')).raw;
  });
  afterAll(() => t.close());

  it('one upstream for a synced and a scanned spelling of the same URL (host case, default port)', async () => {
    const sync = enrollingPusher((options) => t.app.inject(options), keys.push);
    await sync(
      payload('mac-1', [agent('cursor', [remoteServer('jira', 'https://JIRA.Example.com/mcp')])], 'mac'),
    );
    const res = await push(report('ci-1', [remote('jira', 'https://jira.example.com:443/mcp')], 'ci'));
    expect(res.statusCode).toBe(201);
    const body = await discover();
    expect(body.upstreams).toEqual([
      expect.objectContaining({
        name: 'jira',
        url: 'https://jira.example.com/mcp',
        source_agents: ['ci', 'mac'],
        source_agent_count: 2,
      }),
    ]);
  });

  it('keeps credential values out, skips what is not an http(s) remote, and makes names routable', async () => {
    const res = await push(
      report('ci-2', [
        remote('with secrets', `https://user:${SECRET}@secrets.example.com/mcp?access_token=${SECRET}`),
        remote('websocket', 'ws://ws.example.com/mcp'),
        remote('garbage', 'not a url'),
        { name: 'local', transport: 'stdio', command: 'node', auth_mode: 'none', config_path: '/c' },
        remote('../../etc/passwd', 'https://odd.example.com/mcp', 'sse'),
      ]),
    );
    expect(res.statusCode).toBe(201);
    const body = await discover();
    expect(JSON.stringify(body)).not.toContain(SECRET);
    const names = body.upstreams.map((u: { name: string; url: string; transport: string }) => [
      u.name,
      u.url.replace(/\?.*$/, ''),
      u.transport,
    ]);
    expect(names).toEqual([
      ['etc-passwd', 'https://odd.example.com/mcp', 'sse'],
      ['jira', 'https://jira.example.com/mcp', 'https'],
      ['with-secrets', 'https://secrets.example.com/mcp', 'https'],
    ]);
    expect(JSON.stringify(await t.db.dataSource.query(`SELECT * FROM scan_upstreams`))).not.toContain(SECRET);
    expect(JSON.stringify(await t.db.dataSource.query(`SELECT * FROM upstream_names`))).not.toContain(SECRET);
  });

  it('bad-input: a refused push registers no name and stores no upstream', async () => {
    const [upstreams, names] = [await count('scan_upstreams'), await count('upstream_names')];
    const bad = report('ci-3', [remote('fresh', 'https://fresh.example.com/mcp')]);
    (bad.agents[0] as { client: string }).client = 'not-a-client';
    const res = await push(bad);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('agents.0.client');
    const duplicate = report('ci-3', [remote('fresh', 'https://fresh.example.com/mcp')]);
    const finding = {
      id: 'f_000000000000000000000000',
      kind: 'floating_version',
      severity: 'low',
      title: 't',
      subject: 's',
      servers: [],
      credentials: [],
      locations: [],
    };
    (duplicate as { findings: object[] }).findings = [finding, finding];
    expect((await push(duplicate)).statusCode).toBe(400);
    expect([await count('scan_upstreams'), await count('upstream_names')]).toEqual([upstreams, names]);
    expect(JSON.stringify(await discover())).not.toContain('fresh');
  });
});
