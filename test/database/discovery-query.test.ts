import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DiscoveryRepository,
  SOURCE_AGENTS_LISTED,
} from '../../src/modules/discovery/discovery.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The discovery statement before the 2026-12 discovery round (window over every source sorted by name, url and
 * label; mode() over every row), kept verbatim as the oracle: the rewritten statement must give the same rows,
 * in the same order, with the same counts, lists and transports.
 */
const REFERENCE = `WITH remote AS (
    SELECT s.name, s.url, s.transport, e.source_id, coalesce(e.hostname, e.source_id) AS agent, 0 AS origin
      FROM fleet_servers s
      JOIN fleet_agents a ON a.id = s.agent_id
      JOIN fleet_endpoints e ON e.id = a.endpoint_id
     WHERE s.tenant_id = $1 AND s.transport IN ('http', 'https', 'sse')
    UNION ALL
    SELECT name, url, transport, source_id, agent, 1 AS origin
      FROM scan_upstreams WHERE tenant_id = $1
  ), grouped AS (
    SELECT name, url, mode() WITHIN GROUP (ORDER BY transport) AS reported_transport,
           count(DISTINCT source_id)::int AS source_agent_count
      FROM remote GROUP BY name, url
  ), sources AS (
    SELECT DISTINCT ON (name, url, source_id) name, url, agent
      FROM remote ORDER BY name, url, source_id, origin
  ), ranked AS (
    SELECT name, url, agent, row_number() OVER (PARTITION BY name, url ORDER BY agent) AS rank
      FROM (SELECT DISTINCT name, url, agent FROM sources) d
  ), listed AS (
    SELECT name, url, array_agg(agent ORDER BY agent) AS source_agents
      FROM ranked WHERE rank <= ${SOURCE_AGENTS_LISTED} GROUP BY name, url
  )
  SELECT u.assigned_name AS name, u.base_name, u.url, u.ordinal,
         coalesce(u.transport, g.reported_transport) AS transport, g.source_agent_count,
         l.source_agents
    FROM grouped g
    JOIN listed l ON l.name = g.name AND l.url = g.url
    JOIN upstream_names u ON u.tenant_id = $1 AND u.base_name = g.name AND u.url = g.url
   ORDER BY u.assigned_name`;

const JIRA = 'https://jira.example.com/mcp';
const WIKI = 'https://wiki.example.com/mcp';
const MIXED = 'https://mixed.example.com/mcp';
const GONE = 'https://gone.example.com/mcp';

describe('DiscoveryRepository.discovered against the previous statement', () => {
  let db: TestDatabase;
  let repo: DiscoveryRepository;
  const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);

  const endpoint = async (tenant: string, source: string, hostname: string | null) =>
    (
      await q(
        `INSERT INTO fleet_endpoints (tenant_id, source_id, hostname, first_seen_at, last_synced_at)
         VALUES ($1, $2, $3, now(), now()) RETURNING id`,
        [tenant, source, hostname],
      )
    )[0].id as string;
  const agentOf = async (tenant: string, endpointId: string, source: string, name: string) =>
    (
      await q(
        `INSERT INTO fleet_agents (tenant_id, endpoint_id, source_id, client, name, first_seen_at, last_seen_at)
         VALUES ($1, $2, $3, 'cursor', $4, now(), now()) RETURNING id`,
        [tenant, endpointId, source, name],
      )
    )[0].id as string;
  const server = (tenant: string, agentId: string, name: string, transport: string, url: string | null) =>
    q(
      `INSERT INTO fleet_servers (tenant_id, agent_id, name, transport, url, command, auth_mode, config_path,
         first_seen_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'none', '/c.json', now(), now())`,
      [tenant, agentId, name, transport, url, transport === 'stdio' ? 'npx' : null],
    );
  const scan = (
    tenant: string,
    source: string,
    name: string,
    url: string,
    transport: string,
    label: string,
  ) =>
    q(
      `INSERT INTO scan_upstreams (tenant_id, source_id, name, url, transport, agent, scan_id, seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, gen_random_uuid(), now())`,
      [tenant, source, name, url, transport, label],
    );
  const named = (
    tenant: string,
    name: string,
    url: string,
    assigned: string,
    ordinal: number,
    transport: string | null,
  ) =>
    q(
      `INSERT INTO upstream_names (tenant_id, base_name, url, assigned_name, ordinal, first_seen_at, transport)
       VALUES ($1, $2, $3, $4, $5, now(), $6)`,
      [tenant, name, url, assigned, ordinal, transport],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    repo = new DiscoveryRepository(db.dataSource);
    await q(`INSERT INTO tenants (id, name) VALUES ('t1', 't1'), ('t2', 't2')`);
    // jira: 130 endpoints, labels in an order unlike their insertion, two agents on some endpoints (one source),
    // one endpoint without a hostname (src-3, labelled by its source id), two endpoints sharing a hostname (one label).
    for (let i = 0; i < 130; i++) {
      const source = `src-${i}`;
      const host =
        i === 3 ? null : i === 8 ? 'host-0-shared' : i === 9 ? 'host-0-shared' : `host-${(i * 37) % 130}`;
      const e = await endpoint('t1', source, host);
      const a1 = await agentOf('t1', e, source, 'a1');
      await server('t1', a1, 'jira', i % 3 === 0 ? 'sse' : 'https', JIRA);
      await server('t1', a1, 'files', 'stdio', null);
      if (i % 4 === 0) await server('t1', await agentOf('t1', e, source, 'a2'), 'jira', 'https', JIRA);
      if (i < 5) await server('t1', a1, 'wiki', 'http', WIKI);
      if (i < 3) await server('t1', a1, 'mixed', i === 0 ? 'http' : i === 1 ? 'sse' : 'https', MIXED);
    }
    // Scans: a source that also syncs (fleet hostname wins, counted once); scan-only sources, one with a label
    // equal to a fleet hostname (listed once, counted twice), one whose source id syncs another upstream only.
    await scan('t1', 'src-1', 'wiki', WIKI, 'http', 'scan-label-of-src-1');
    await scan('t1', 'scan-only', 'wiki', WIKI, 'http', 'aaa-scanner');
    await scan('t1', 'scan-dup', 'wiki', WIKI, 'http', 'host-74');
    await scan('t1', 'src-100', 'wiki', WIKI, 'http', 'scan-of-src-100');
    await scan('t1', 'scan-x', 'mixed', MIXED, 'sse', 'scanner-x');
    await scan('t1', 'scan-y', 'mixed', MIXED, 'sse', 'scanner-y');
    // Names: jira registered with its transport; mixed and wiki legacy (no transport: the most reported one,
    // ties by order); a name no longer reported by anyone.
    await named('t1', 'jira', JIRA, 'jira', 0, 'sse'); // most reports say https
    await named('t1', 'wiki', WIKI, 'wiki', 0, null);
    await named('t1', 'mixed', MIXED, 'mixed', 0, null);
    await named('t1', 'gone', GONE, 'gone', 0, 'https');
    // Another tenant reporting the same upstreams never shows up in t1's answer.
    const other = await endpoint('t2', 'src-1', 'other-host');
    await server('t2', await agentOf('t2', other, 'src-1', 'a1'), 'jira', 'https', JIRA);
    await scan('t2', 'src-2', 'wiki', WIKI, 'http', 'other-scan');
    await named('t2', 'jira', JIRA, 'jira', 0, 'https');
  });
  afterAll(() => db.drop());

  it('gives the same rows, order, counts, lists and transports as the previous statement', async () => {
    const rows = await repo.discovered('t1');
    expect(rows).toEqual(await q(REFERENCE, ['t1']));
    expect(await repo.discovered('t2')).toEqual(await q(REFERENCE, ['t2']));
    // Not vacuous: the data exercises every rule.
    expect(rows.map((r) => r.name)).toEqual(['jira', 'mixed', 'wiki']);
    const [jira, mixed, wiki] = rows;
    expect(jira.source_agent_count).toBe(130);
    expect(jira.source_agents).toHaveLength(SOURCE_AGENTS_LISTED);
    expect(jira.source_agents[0]).toBe('host-0');
    expect(jira.source_agents.filter((a) => a === 'host-0-shared')).toHaveLength(1);
    expect(jira.transport).toBe('sse');
    expect(wiki.source_agent_count).toBe(8); // 5 syncing + scan-only + scan-dup + src-100 (syncs jira only)
    expect(wiki.source_agents).toEqual(
      ['aaa-scanner', 'host-0', 'host-18', 'host-37', 'host-74', 'scan-of-src-100', 'src-3'].sort(),
    );
    expect(wiki.transport).toBe('http');
    expect(mixed.source_agent_count).toBe(5);
    expect(mixed.transport).toBe('sse'); // three sse reports beat one http and one https
  });

  it('falls back to the first transport in order when the reports tie', async () => {
    await q(`DELETE FROM scan_upstreams WHERE tenant_id = 't1' AND source_id = 'scan-y'`);
    const rows = await repo.discovered('t1');
    expect(rows).toEqual(await q(REFERENCE, ['t1']));
    expect(rows.find((r) => r.name === 'mixed')?.transport).toBe('sse'); // http 1, https 1, sse 2
    await q(`DELETE FROM scan_upstreams WHERE tenant_id = 't1' AND source_id = 'scan-x'`);
    const tied = await repo.discovered('t1');
    expect(tied).toEqual(await q(REFERENCE, ['t1']));
    expect(tied.find((r) => r.name === 'mixed')?.transport).toBe('http'); // one each: the first in order
  });
});
