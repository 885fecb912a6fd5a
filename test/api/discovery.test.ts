import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, payload, remoteServer, stdioServer, enrollingPusher } from '../helpers/fleet.js';

const JIRA = 'https://mcp.example.internal/jira';
const JIRA_2 = 'https://jira.other.example.com/mcp';

describe('GET /v1/gateway/upstreams/discovered', () => {
  let t: TestApp;
  const keys: Record<string, { push: string; gateway: string }> = {};
  beforeAll(async () => {
    t = await startTestApp();
    for (const tenant of ['tenant-alpha', 'tenant-beta', 'tenant-stdio']) {
      await createTenant(t.app, tenant);
      keys[tenant] = {
        push: (await createKey(t.app, tenant, 'fleet-push')).raw,
        gateway: (await createKey(t.app, tenant, 'gateway')).raw,
      };
    }
  });
  afterAll(() => t.close());

  const pushers = new Map<string, ReturnType<typeof enrollingPusher>>();
  const sync = (tenant: string, body: object) => {
    if (!pushers.has(tenant)) {
      pushers.set(
        tenant,
        enrollingPusher((options) => t.app.inject(options), keys[tenant].push),
      );
    }
    return pushers.get(tenant)!(body);
  };
  const discover = async (tenant: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(keys[tenant].gateway),
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('matches the seed: jira over sse from two agents, auth none, stdio excluded', async () => {
    await sync(
      'tenant-alpha',
      payload(
        'mac-1',
        [
          agent('claude-desktop', [
            remoteServer('jira', JIRA, { transport: 'sse' }),
            stdioServer('filesystem'),
          ]),
        ],
        'mac-laptop-1',
      ),
    );
    await sync(
      'tenant-alpha',
      payload(
        'win-3',
        [agent('cursor', [remoteServer('jira', JIRA, { transport: 'sse' })], 'cursor')],
        'windows-laptop-3',
      ),
    );
    const body = await discover('tenant-alpha');
    expect(Object.keys(body)).toEqual(['tenant_id', 'source', 'generated_at', 'upstreams', 'conflicts']);
    expect(body).toEqual({
      tenant_id: 'tenant-alpha',
      source: 'fleet_scan_aggregate',
      generated_at: expect.any(String),
      upstreams: [
        {
          name: 'jira',
          url: JIRA,
          transport: 'sse',
          auth: 'none',
          source_agents: ['mac-laptop-1', 'windows-laptop-3'],
          source_agent_count: 2,
          approval: 'pending',
        },
      ],
      conflicts: [],
    });
  });

  it('a second URL under the same name becomes jira-1 and is listed in conflicts', async () => {
    await sync(
      'tenant-alpha',
      payload('lin-9', [agent('vscode', [remoteServer('jira', JIRA_2)], 'vscode')], 'linux-box-9'),
    );
    const body = await discover('tenant-alpha');
    expect(body.upstreams.map((u: { name: string; url: string }) => [u.name, u.url])).toEqual([
      ['jira', JIRA],
      ['jira-1', JIRA_2],
    ]);
    expect(body.conflicts).toEqual([
      {
        name: 'jira',
        upstreams: [
          { name: 'jira', url: JIRA },
          { name: 'jira-1', url: JIRA_2 },
        ],
      },
    ]);
  });

  it('names are stable: when the first URL disappears and comes back, nothing is re-pointed', async () => {
    await sync('tenant-alpha', payload('mac-1', [agent('claude-desktop', [])], 'mac-laptop-1'));
    await sync('tenant-alpha', payload('win-3', [agent('cursor', [], 'cursor')], 'windows-laptop-3'));
    let body = await discover('tenant-alpha');
    expect(body.upstreams.map((u: { name: string }) => u.name)).toEqual(['jira-1']); // still jira-1, not jira
    expect(body.conflicts).toEqual([]);
    await sync(
      'tenant-alpha',
      payload(
        'mac-1',
        [agent('claude-desktop', [remoteServer('jira', JIRA, { transport: 'sse' })])],
        'mac-laptop-1',
      ),
    );
    body = await discover('tenant-alpha');
    expect(body.upstreams.map((u: { name: string; url: string }) => [u.name, u.url])).toEqual([
      ['jira', JIRA],
      ['jira-1', JIRA_2],
    ]);
  });

  it('a server literally named like a suffix does not steal it', async () => {
    await sync(
      'tenant-alpha',
      payload('lin-10', [agent('zed', [remoteServer('jira-1', 'https://third.example.com/mcp')], 'zed')]),
    );
    const names = (await discover('tenant-alpha')).upstreams.map((u: { name: string; url: string }) => [
      u.name,
      u.url,
    ]);
    expect(names).toContainEqual(['jira-1', JIRA_2]);
    expect(names).toContainEqual(['jira-1-1', 'https://third.example.com/mcp']);
  });

  it('one sync bringing many new pairs names them in order, as one by one would', async () => {
    await createTenant(t.app, 'tenant-batch');
    keys['tenant-batch'] = {
      push: (await createKey(t.app, 'tenant-batch', 'fleet-push')).raw,
      gateway: (await createKey(t.app, 'tenant-batch', 'gateway')).raw,
    };
    const url = (n: string) => `https://${n}.batch.example.com/mcp`;
    await sync(
      'tenant-batch',
      payload('batch-1', [
        agent('a', [remoteServer('jira', url('a')), remoteServer('jira-1', url('x'))], 'cursor'),
        agent('b', [remoteServer('jira', url('b')), remoteServer('My Server', url('d'))], 'cursor'),
        agent('c', [remoteServer('jira', url('c')), remoteServer('My-Server', url('e'))], 'cursor'),
        agent('d', [remoteServer('jira', url('a'))], 'cursor'),
      ]),
    );
    const names = (await discover('tenant-batch')).upstreams
      .map((u: { name: string; url: string }) => [u.name, u.url])
      .sort();
    expect(names).toEqual(
      [
        ['jira', url('a')],
        ['jira-1', url('x')], // the literal name, first seen before the second jira URL
        ['jira-2', url('b')], // jira-1 is taken: skipped
        ['jira-3', url('c')],
        ['My-Server', url('d')],
        ['My-Server-1', url('e')],
      ].sort(),
    );
  });

  it('URLs are compared in canonical form (host case, default port)', async () => {
    await sync(
      'tenant-alpha',
      payload('lin-11', [
        agent(
          'zed',
          [remoteServer('jira', 'https://MCP.example.internal:443/jira', { transport: 'sse' })],
          'zed',
        ),
      ]),
    );
    const jira = (await discover('tenant-alpha')).upstreams.find((u: { name: string }) => u.name === 'jira');
    expect(jira.url).toBe(JIRA);
    expect(jira.source_agents).toContain('lin-11');
  });

  it('tenants are independent: the same name and URL are named by each tenant on its own', async () => {
    await sync('tenant-beta', payload('b-1', [agent('cursor', [remoteServer('jira', JIRA_2)], 'cursor')]));
    const body = await discover('tenant-beta');
    expect(body.tenant_id).toBe('tenant-beta');
    expect(body.upstreams).toEqual([
      {
        name: 'jira',
        url: JIRA_2,
        transport: 'https',
        auth: 'none',
        source_agents: ['b-1'],
        source_agent_count: 1,
        approval: 'pending',
      },
    ]);
  });

  it('a tenant with only stdio servers gets an empty list, not an error', async () => {
    await sync(
      'tenant-stdio',
      payload('s-1', [agent('claude-desktop', [stdioServer('filesystem'), stdioServer('git')])]),
    );
    const body = await discover('tenant-stdio');
    expect(body.upstreams).toEqual([]);
    expect(body.conflicts).toEqual([]);
  });

  it('viewers may read discovery; fleet-push keys may not', async () => {
    const viewer = (await createKey(t.app, 'tenant-alpha', 'viewer')).raw;
    const ok = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(viewer),
    });
    expect(ok.statusCode).toBe(200);
    const no = await t.app.inject({
      method: 'GET',
      url: '/v1/gateway/upstreams/discovered',
      headers: bearer(keys['tenant-alpha'].push),
    });
    expect(no.statusCode).toBe(403);
  });
});

describe('discovery at fleet scale', () => {
  it('lists at most 100 source agents per upstream and counts them all', async () => {
    const t = await startTestApp();
    try {
      const tenant = await createTenant(t.app);
      const push = (await createKey(t.app, tenant, 'fleet-push')).raw;
      const gateway = (await createKey(t.app, tenant, 'gateway')).raw;
      for (let i = 0; i < 120; i++) {
        const body = payload(`host-${String(i).padStart(3, '0')}`, [
          agent('cursor', [remoteServer('jira', JIRA)], 'cursor'),
        ]);
        expect(
          (
            await t.app.inject({
              method: 'POST',
              url: '/v1/fleet/sync',
              headers: bearer(push),
              payload: body,
            })
          ).statusCode,
        ).toBe(200);
      }
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/gateway/upstreams/discovered',
        headers: bearer(gateway),
      });
      const [jira] = res.json().upstreams;
      expect(jira.source_agent_count).toBe(120);
      expect(jira.source_agents).toHaveLength(100);
      expect(jira.source_agents[0]).toBe('host-000');
    } finally {
      await t.close();
    }
  }, 120_000); // 120 enrollments, each minting an endpoint credential
});
