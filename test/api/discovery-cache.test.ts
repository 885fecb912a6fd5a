import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DiscoveryAnswers } from '../../src/modules/discovery/discovery-answers.js';
import { DiscoveryRepository, GENERATION_ROWS } from '../../src/modules/discovery/discovery.repository.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { agent, enrollingPusher, payload, remoteServer, stdioServer } from '../helpers/fleet.js';

const JIRA = 'https://jira.example.com/mcp';
const WIKI = 'https://wiki.example.com/mcp';

interface Upstream {
  name: string;
  url: string;
  transport: string;
  source_agents: string[];
  source_agent_count: number;
}

/** A results-push body with the given remote servers under one agent. */
function scanReport(sourceId: string, servers: Array<{ name: string; url: string }>, hostname?: string) {
  return {
    schema_version: '1',
    document_type: 'agent-bom.scan',
    scan_id: randomUUID(),
    generated_at: new Date().toISOString(),
    source_id: sourceId,
    ...(hostname ? { endpoint: { hostname } } : {}),
    advisory_source: { description: 'test' },
    agents: [
      {
        name: 'cursor',
        client: 'cursor',
        servers: servers.map((s) => ({ ...s, transport: 'https', auth_mode: 'none', config_path: '/c' })),
      },
    ],
    packages: [],
    findings: [],
    summary: {},
    warnings: [],
  };
}

/** One app's view of a tenant: sync, push a scan, discover, and how often discovery read the database. */
function client(t: TestApp, keys: { push: string; gateway: string }) {
  const sync = enrollingPusher((options) => t.app.inject(options), keys.push);
  const answers = t.app.get(DiscoveryAnswers);
  return {
    answers,
    reads: () => answers.reads,
    async sync(body: object) {
      const res = await sync(body);
      expect(res.statusCode).toBe(200);
    },
    async scan(body: object) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/results/push',
        headers: bearer(keys.push),
        payload: body,
      });
      expect(res.statusCode).toBe(201);
    },
    async discover(): Promise<Upstream[]> {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/gateway/upstreams/discovered',
        headers: bearer(keys.gateway),
      });
      expect(res.statusCode).toBe(200);
      return (res.json() as { upstreams: Upstream[] }).upstreams;
    },
  };
}

const summary = (upstreams: Upstream[]) =>
  upstreams.map((u) => `${u.name} ${u.url} ${u.transport} [${u.source_agents.join(',')}]`);

async function keysFor(t: TestApp, tenant: string) {
  await createTenant(t.app, tenant);
  return {
    push: (await createKey(t.app, tenant, 'fleet-push')).raw,
    gateway: (await createKey(t.app, tenant, 'gateway')).raw,
  };
}

/**
 * The discovered answer is kept per tenant in memory (DiscoveryAnswers) with its generation, which only a commit
 * that changes what it aggregates moves (triggers, migration DiscoveryGenerations): each change below is in the very
 * next GET after its commit returned, with no wait; what changes nothing keeps the answer.
 */
describe('discovery answers: remembered, and dropped by every real change', () => {
  let t: TestApp;
  let alpha: ReturnType<typeof client>;
  let beta: ReturnType<typeof client>;
  const mac = (servers = [remoteServer('jira', JIRA)], hostname = 'mac-laptop') =>
    payload('mac-1', [agent('claude-desktop', [...servers, stdioServer('filesystem')])], hostname);
  /** Runs `change`, then expects the next GET to read the database once and answer `expected`. */
  const changes = async (change: () => Promise<unknown>, expected: string[]) => {
    await alpha.discover(); // remembered
    const before = alpha.reads();
    await change();
    expect(summary(await alpha.discover())).toEqual(expected);
    expect(alpha.reads()).toBe(before + 1);
    expect(summary(await alpha.discover())).toEqual(expected); // and remembered again
    expect(alpha.reads()).toBe(before + 1);
  };
  /** Runs `change`, then expects the answer remembered (no read) and unchanged. */
  const keeps = async (change: () => Promise<unknown>) => {
    const answer = summary(await alpha.discover());
    const before = alpha.reads();
    await change();
    expect(summary(await alpha.discover())).toEqual(answer);
    expect(alpha.reads()).toBe(before);
  };
  const sql = (text: string, params: unknown[] = []) => t.db.dataSource.query(text, params);
  /** Moves the tenant's generation as a change would. */
  const bump = (tenant: string) =>
    sql(`INSERT INTO discovery_generations (tenant_id, n) VALUES ($1, 1)`, [tenant]);

  beforeAll(async () => {
    t = await startTestApp();
    alpha = client(t, await keysFor(t, 'cache-alpha'));
    beta = client(t, await keysFor(t, 'cache-beta'));
    await alpha.sync(mac());
    await beta.sync(payload('b-1', [agent('cursor', [remoteServer('beta-only', WIKI)], 'cursor')], 'b'));
  });
  afterAll(() => t.close());

  it('a second GET is served from memory: no read, and a row changed behind the triggers is not seen', async () => {
    expect(summary(await alpha.discover())).toEqual(['jira https://jira.example.com/mcp https [mac-laptop]']);
    const before = alpha.reads();
    for (let i = 0; i < 5; i++) await alpha.discover();
    expect(alpha.reads()).toBe(before);
    // A write with triggers off (what only a superuser can do) moves no generation: the kept answer is served.
    await t.db.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(`UPDATE fleet_endpoints SET hostname = 'behind-the-triggers' WHERE source_id = 'mac-1'`);
    });
    expect(summary(await alpha.discover())).toEqual(['jira https://jira.example.com/mcp https [mac-laptop]']);
    await t.db.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(`UPDATE fleet_endpoints SET hostname = 'mac-laptop' WHERE source_id = 'mac-1'`);
    });
  });

  it('a sync that changes nothing remote keeps the answer (same inventory, stdio changes, another OS)', async () => {
    await keeps(() => alpha.sync(mac()));
    await keeps(() =>
      alpha.sync(
        payload(
          'mac-1',
          [agent('claude-desktop', [remoteServer('jira', JIRA), stdioServer('git'), stdioServer('fetch')])],
          'mac-laptop',
        ),
      ),
    );
    await keeps(() => alpha.sync({ ...mac(), endpoint: { hostname: 'mac-laptop', os: 'darwin' } }));
    // A new endpoint with stdio servers only, and an agent without remote servers.
    await keeps(() => alpha.sync(payload('stdio-only', [agent('cursor', [stdioServer('x')], 'cursor')])));
    await keeps(() => alpha.sync(payload('stdio-only', [])));
  });

  it('a sync that adds, changes or removes a remote server is in the very next GET', async () => {
    await changes(
      () => alpha.sync(mac([remoteServer('jira', JIRA), remoteServer('wiki', WIKI)])),
      [
        'jira https://jira.example.com/mcp https [mac-laptop]',
        'wiki https://wiki.example.com/mcp https [mac-laptop]',
      ],
    );
    await changes(
      () =>
        alpha.sync(mac([remoteServer('jira', JIRA), remoteServer('wiki', 'https://wiki2.example.com/mcp')])),
      [
        'jira https://jira.example.com/mcp https [mac-laptop]',
        'wiki-1 https://wiki2.example.com/mcp https [mac-laptop]',
      ],
    );
    await changes(() => alpha.sync(mac()), ['jira https://jira.example.com/mcp https [mac-laptop]']);
    // A stdio server that becomes remote under the same name (an update of its row).
    await changes(
      () =>
        alpha.sync(
          payload(
            'mac-1',
            [agent('claude-desktop', [remoteServer('jira', JIRA), remoteServer('filesystem', WIKI)])],
            'mac-laptop',
          ),
        ),
      [
        'filesystem https://wiki.example.com/mcp https [mac-laptop]',
        'jira https://jira.example.com/mcp https [mac-laptop]',
      ],
    );
    await changes(() => alpha.sync(mac()), ['jira https://jira.example.com/mcp https [mac-laptop]']);
  });

  it("an endpoint's new hostname is in the very next GET", async () => {
    await changes(
      () => alpha.sync(mac(undefined, 'renamed-laptop')),
      ['jira https://jira.example.com/mcp https [renamed-laptop]'],
    );
  });

  it('a removed agent (by a sync) and a deleted endpoint (by SQL, cascading) are in the very next GET', async () => {
    await alpha.sync(
      payload(
        'win-1',
        [
          agent('cursor', [remoteServer('jira', JIRA)], 'cursor'),
          agent('vscode', [remoteServer('wiki', WIKI)], 'vscode'),
        ],
        'win',
      ),
    );
    expect(summary(await alpha.discover())).toEqual([
      'jira https://jira.example.com/mcp https [renamed-laptop,win]',
      'wiki https://wiki.example.com/mcp https [win]',
    ]);
    await changes(
      () => alpha.sync(payload('win-1', [agent('cursor', [remoteServer('jira', JIRA)], 'cursor')], 'win')),
      ['jira https://jira.example.com/mcp https [renamed-laptop,win]'],
    );
    await changes(
      () => sql(`DELETE FROM fleet_endpoints WHERE tenant_id = 'cache-alpha' AND source_id = 'win-1'`),
      ['jira https://jira.example.com/mcp https [renamed-laptop]'],
    );
    await changes(
      () => sql(`DELETE FROM fleet_agents WHERE tenant_id = 'cache-alpha' AND source_id = 'mac-1'`),
      [],
    );
    await changes(() => alpha.sync(mac()), ['jira https://jira.example.com/mcp https [mac-laptop]']);
  });

  it('a server row that moves to another agent or stops being remote, URL kept (by SQL), is in the very next GET', async () => {
    await alpha.sync(payload('win-2', [agent('cursor', [stdioServer('tool')], 'cursor')], 'win-two'));
    const moveJira = `UPDATE fleet_servers SET agent_id = (
        SELECT id FROM fleet_agents WHERE tenant_id = 'cache-alpha' AND source_id = 'win-2')
      WHERE tenant_id = 'cache-alpha' AND name = 'jira'`;
    await changes(() => sql(moveJira), ['jira https://jira.example.com/mcp https [win-two]']);
    await changes(
      () =>
        sql(`UPDATE fleet_servers SET transport = 'stdio' WHERE tenant_id = 'cache-alpha' AND name = 'jira'`),
      [],
    );
    await changes(
      () =>
        sql(`UPDATE fleet_servers SET transport = 'sse' WHERE tenant_id = 'cache-alpha' AND name = 'jira'`),
      ['jira https://jira.example.com/mcp https [win-two]'],
    );
    await sql(`DELETE FROM fleet_endpoints WHERE tenant_id = 'cache-alpha' AND source_id = 'win-2'`);
    await changes(() => alpha.sync(mac()), ['jira https://jira.example.com/mcp https [mac-laptop]']);
  });

  it('a stored scan is in the very next GET; the same scan stored again keeps the answer', async () => {
    await changes(
      () => alpha.scan(scanReport('ci-1', [{ name: 'jira', url: JIRA }], 'ci-runner')),
      ['jira https://jira.example.com/mcp https [ci-runner,mac-laptop]'],
    );
    await keeps(() => alpha.scan(scanReport('ci-1', [{ name: 'jira', url: JIRA }], 'ci-runner')));
    await changes(
      () =>
        alpha.scan(
          scanReport(
            'ci-1',
            [
              { name: 'jira', url: JIRA },
              { name: 'docs', url: 'https://docs.example.com/mcp' },
            ],
            'ci-runner',
          ),
        ),
      [
        'docs https://docs.example.com/mcp https [ci-runner]',
        'jira https://jira.example.com/mcp https [ci-runner,mac-laptop]',
      ],
    );
    // Only the label changes (an update of the rows), then a row goes.
    await changes(
      () =>
        alpha.scan(
          scanReport(
            'ci-1',
            [
              { name: 'jira', url: JIRA },
              { name: 'docs', url: 'https://docs.example.com/mcp' },
            ],
            'ci-box',
          ),
        ),
      [
        'docs https://docs.example.com/mcp https [ci-box]',
        'jira https://jira.example.com/mcp https [ci-box,mac-laptop]',
      ],
    );
    await changes(
      () => alpha.scan(scanReport('ci-1', [{ name: 'jira', url: JIRA }], 'ci-box')),
      ['jira https://jira.example.com/mcp https [ci-box,mac-laptop]'],
    );
    await changes(
      () => alpha.scan(scanReport('ci-1', [])),
      ['jira https://jira.example.com/mcp https [mac-laptop]'],
    );
  });

  it('a new or changed upstream name (by SQL too) is in the very next GET', async () => {
    await changes(
      () =>
        sql(
          `UPDATE upstream_names SET assigned_name = 'jira-renamed'
              WHERE tenant_id = 'cache-alpha' AND base_name = 'jira' AND url = $1`,
          [JIRA],
        ),
      ['jira-renamed https://jira.example.com/mcp https [mac-laptop]'],
    );
    await changes(
      () =>
        sql(
          `UPDATE upstream_names SET assigned_name = 'jira'
              WHERE tenant_id = 'cache-alpha' AND base_name = 'jira' AND url = $1`,
          [JIRA],
        ),
      ['jira https://jira.example.com/mcp https [mac-laptop]'],
    );
  });

  it('a rolled-back change moves no generation and leaves the answer right', async () => {
    await keeps(() =>
      t.db.dataSource
        .transaction(async (m) => {
          await m.query(`UPDATE fleet_endpoints SET hostname = 'rolled-back' WHERE source_id = 'mac-1'`);
          throw new Error('roll back');
        })
        .catch(() => undefined),
    );
  });

  it("one tenant's change neither drops another tenant's answer nor is served to it", async () => {
    expect(summary(await beta.discover())).toEqual(['beta-only https://wiki.example.com/mcp https [b]']);
    await changes(
      () =>
        alpha.sync(mac([remoteServer('jira', JIRA), remoteServer('alpha-2', 'https://a2.example.com/mcp')])),
      [
        'alpha-2 https://a2.example.com/mcp https [mac-laptop]',
        'jira https://jira.example.com/mcp https [mac-laptop]',
      ],
    );
    const reads = beta.reads(); // one counter per app: alpha's reads are done
    expect(summary(await beta.discover())).toEqual(['beta-only https://wiki.example.com/mcp https [b]']);
    expect(beta.reads()).toBe(reads);
  });

  it('a read that a commit overtook is kept at its own generation: the next GET reads the committed rows', async () => {
    const repository = t.app.get(DiscoveryRepository);
    await bump('cache-alpha'); // so that the next request misses
    // The read's rows and generation are from one snapshot before the commit; it returns after the commit.
    const stale = await alpha.answers.answer('cache-alpha', async () => {
      const { generation, rows } = await repository.discoveredAt('cache-alpha');
      await alpha.sync(mac([remoteServer('jira', JIRA)], 'overtaking-laptop'));
      return { generation, value: { rows, conflicts: [] } };
    });
    expect(stale.rows.map((r) => r.source_agents)).toEqual([['mac-laptop'], ['mac-laptop']]);
    const before = alpha.reads();
    expect(summary(await alpha.discover())).toEqual([
      'jira https://jira.example.com/mcp https [overtaking-laptop]',
    ]);
    expect(alpha.reads()).toBe(before + 1);
  });

  it('a request that misses joins a read in flight at its generation or a later one, not an older one', async () => {
    const answers = alpha.answers;
    const repository = t.app.get(DiscoveryRepository);
    const tenant = 'single-flight';
    // Counts the generation reads, to know when every request below is past its check.
    const generation = repository.generation.bind(repository);
    let checked = 0;
    repository.generation = async (id) => {
      const g = await generation(id);
      checked++;
      return g;
    };
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let calls = 0;
      const read = (g: number) => async () => {
        calls++;
        await gate;
        return { generation: g, value: { rows: [], conflicts: [] } };
      };
      const settle = async (n: number) => {
        for (let i = 0; checked < n; i++) {
          if (i > 100_000) throw new Error(`${checked} generation reads, waiting for ${n}`);
          await new Promise((resolve) => setImmediate(resolve));
        }
        for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      const first = answers.answer(tenant, read(0));
      await settle(1);
      expect(calls).toBe(1);
      // A commit moves the generation: the next request may not take the first read; the third joins the second's.
      await bump(tenant);
      const second = answers.answer(tenant, read(1));
      await settle(2);
      const third = answers.answer(tenant, read(1));
      await settle(3);
      expect(calls).toBe(2);
      release();
      const [, b, c] = await Promise.all([first, second, third]);
      expect(c).toBe(b);
      // The older read finished too, and did not replace the newer answer: it is served without a read.
      expect(await answers.answer(tenant, read(1))).toBe(b);
      expect(calls).toBe(2);
    } finally {
      repository.generation = generation;
    }
  });

  it('a write through a connection of its own, not the application, is in the very next GET', async () => {
    const other = new pg.Client({ connectionString: t.db.url });
    await other.connect();
    try {
      await changes(
        () =>
          other.query(`UPDATE fleet_endpoints SET hostname = 'by-another-client' WHERE source_id = 'mac-1'`),
        ['jira https://jira.example.com/mcp https [by-another-client]'],
      );
    } finally {
      await other.end();
    }
    await changes(() => alpha.sync(mac()), ['jira https://jira.example.com/mcp https [mac-laptop]']);
  });

  it("a tenant's many generation rows are folded into one, and the answer is still kept", async () => {
    const rows = async () =>
      (await sql(`SELECT count(*)::int AS n FROM discovery_generations WHERE tenant_id = 'cache-alpha'`))[0]
        .n;
    await alpha.discover();
    const before = alpha.reads();
    // Changes of other transactions: each its own row (no one waits for a counter row's lock).
    for (let i = 0; i < 40; i++) await bump('cache-alpha');
    expect(await rows()).toBeGreaterThan(GENERATION_ROWS);
    await alpha.discover(); // reads (the generation moved) and folds the rows in the background
    expect(alpha.reads()).toBe(before + 1);
    const deadline = Date.now() + 5000;
    while ((await rows()) > 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await rows()).toBe(1);
    await alpha.discover(); // the same generation: kept
    expect(alpha.reads()).toBe(before + 1);
  });

  it("a TRUNCATE drops every tenant's answer", async () => {
    expect(summary(await alpha.discover())).toEqual(['jira https://jira.example.com/mcp https [mac-laptop]']);
    expect(summary(await beta.discover())).toEqual(['beta-only https://wiki.example.com/mcp https [b]']);
    await sql(`TRUNCATE fleet_endpoints CASCADE`);
    expect(await alpha.discover()).toEqual([]);
    expect(await beta.discover()).toEqual([]);
  });
});

describe('discovery answers across replicas', () => {
  it('a change committed through one app is in the very next GET of another that had the answer remembered', async () => {
    const a = await startTestApp();
    const b = await startTestApp({ db: a.db });
    try {
      const keys = await keysFor(a, 'replicas');
      const onA = client(a, keys);
      const onB = client(b, keys);
      await onA.sync(payload('mac-1', [agent('claude-desktop', [remoteServer('jira', JIRA)])], 'mac'));
      expect(summary(await onB.discover())).toEqual(['jira https://jira.example.com/mcp https [mac]']);
      const before = onB.reads();
      await onB.discover();
      expect(onB.reads()).toBe(before); // B remembers it

      await onA.sync(
        payload('mac-1', [agent('claude-desktop', [remoteServer('jira', JIRA)])], 'mac-renamed'),
      );
      expect(summary(await onB.discover())).toEqual([
        'jira https://jira.example.com/mcp https [mac-renamed]',
      ]);
      // And a sync through A that changes nothing remote keeps B's answer.
      await onA.sync(
        payload('mac-1', [agent('claude-desktop', [remoteServer('jira', JIRA)])], 'mac-renamed'),
      );
      const after = onB.reads();
      await onB.discover();
      expect(onB.reads()).toBe(after);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
