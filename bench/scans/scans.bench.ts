/**
 * `npm run bench -- scans`: a scan of `servers` servers / `packages` packages against `advisories` advisories, and
 * blast-radius latency on the graph of that scan, each beside its limit line measured in the same run:
 * - matching: advisory lookup + exact version matching through the PostgreSQL source, vs the same lookups as one
 *   plain indexed SELECT (no matching);
 * - impact: `GET /v1/graph/impact`'s one recursive statement (nodes and edges), vs a plain indexed SELECT of
 *   the node's direct in-edges.
 * Uses a throw-away database (on DATABASE_URL's server when set, else embedded).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { matchPackages, type Advisory, type PackageQuery } from '../../libs/advisories/src/index.js';
import { createDataSource, migrateWithLock } from '../../src/core/database/data-source.js';
import { Transactions } from '../../src/core/database/transactions.js';
import { AdvisoriesRepository } from '../../src/modules/advisories/advisories.repository.js';
import { graphOfScan } from '../../src/modules/graph/graph-build.js';
import { GraphRepository } from '../../src/modules/graph/graph.repository.js';
import type { ResultsPush } from '../../src/modules/scans/results-push.schema.js';
import { percentile, scratchDatabase } from '../support/control-plane.js';
import { fromDurations } from '../support/durations.js';
import { loadAverage } from '../support/proc.js';
import { ratio, type Scenario } from '../support/result.js';

export interface ScansOptions {
  servers: number;
  packages: number;
  advisories: number;
  impactQueries: number;
}

const NAMES = 50_000; // distinct npm package names the advisories spread over

function advisory(i: number): Advisory {
  const major = i % 5;
  return {
    id: `BENCH-${i}`,
    aliases: [],
    modified: '2025-01-01T00:00:00.000Z',
    severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
    affected: [
      {
        ecosystem: 'npm',
        name: `pkg-${i % NAMES}`,
        ranges: [{ type: 'SEMVER', events: [{ introduced: `${major}.0.0` }, { fixed: `${major}.5.0` }] }],
        versions: [],
      },
    ],
    references: [],
  };
}

export async function run(options: ScansOptions): Promise<Scenario[]> {
  const {
    servers: SERVERS,
    packages: PACKAGES,
    advisories: ADVISORIES,
    impactQueries: IMPACT_QUERIES,
  } = options;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-bench-scans-'));
  const scratch = await scratchDatabase(dataDir);
  const ds = createDataSource(scratch.url, 8);
  await ds.initialize();
  try {
    await migrateWithLock(ds);
    await ds.query(`INSERT INTO tenants (id, name) VALUES ('bench', 'bench')`);
    const transactions = new Transactions(ds);
    const advisories = new AdvisoriesRepository(ds);
    const graph = new GraphRepository(ds);

    let t0 = performance.now();
    for (let start = 0; start < ADVISORIES; start += 2000) {
      const batch = Array.from({ length: Math.min(2000, ADVISORIES - start) }, (_, k) => advisory(start + k));
      await transactions.run((tx) => advisories.upsert(batch, tx));
    }
    const importSeconds = (performance.now() - t0) / 1000;
    await ds.query('ANALYZE');

    // 1,000 servers × 20 packages: each package pinned at a version some advisories cover.
    const perServer = Math.ceil(PACKAGES / SERVERS);
    const queries: PackageQuery[] = Array.from({ length: PACKAGES }, (_, i) => ({
      ecosystem: 'npm',
      name: `pkg-${(i * 7919) % NAMES}`,
      version: `${i % 5}.${i % 10}.0`,
    }));
    const source = {
      description: 'postgresql',
      candidates: (keys: readonly string[]) =>
        advisories.byPackages(keys.map((k) => ['npm', k.slice(4)] as const)),
    };
    // Interleaved rounds, medians: one pass is ~0.1 s at quick sizes, too short to trust alone.
    const names = [...new Set(queries.map((q) => q.name))];
    const scanTimes: number[] = [];
    const baselineTimes: number[] = [];
    let matches: Awaited<ReturnType<typeof matchPackages>> = [];
    for (let round = 0; round < 5; round++) {
      t0 = performance.now();
      matches = await matchPackages(source, queries);
      scanTimes.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      await ds.query(
        `SELECT p.name, a.record FROM unnest($1::text[]) AS k(name)
           JOIN advisory_packages p ON p.ecosystem = 'npm' AND p.name = k.name JOIN advisories a ON a.id = p.advisory_id`,
        [names],
      );
      baselineTimes.push((performance.now() - t0) / 1000);
    }
    const scanSeconds = percentile(scanTimes, 50);
    const baselineSeconds = percentile(baselineTimes, 50);
    const vulnerable = matches.filter((m) => m.length).length;

    // The graph of that scan: 10 endpoints × 1 agent × 100 servers, each server running its 20 packages.
    t0 = performance.now();
    const endpoints = Math.max(1, Math.round(SERVERS / 100));
    for (let e = 0; e < endpoints; e++) {
      const servers = Array.from({ length: SERVERS / endpoints }, (_, s) => e * (SERVERS / endpoints) + s);
      const report = {
        source_id: `endpoint-${e}`,
        agents: [
          {
            name: 'claude-code',
            client: 'claude-code',
            servers: servers.map((s) => ({
              name: `server-${s}`,
              transport: 'stdio',
              auth_mode: 'env',
              credential_env_names: ['API_TOKEN'],
              declared_tools: ['read', 'write'],
              config_path: '/c.json',
            })),
          },
        ],
        packages: servers.flatMap((s) =>
          Array.from({ length: perServer }, (_, k) => {
            const q = queries[(s * perServer + k) % queries.length];
            return {
              purl: `pkg:npm/${q.name}@${q.version}`,
              ecosystem: 'npm',
              name: q.name,
              version: q.version,
              confidence: 'pinned',
              servers: [`claude-code/server-${s}`],
              origins: [],
            };
          }),
        ),
        findings: servers.flatMap((s) =>
          Array.from({ length: perServer }, (_, k) => (s * perServer + k) % queries.length)
            .flatMap((qi) => matches[qi].map((m) => ({ qi, m })))
            .map(({ qi, m }) => ({
              id: 'f_000000000000000000000000',
              kind: 'vulnerability',
              severity: m.advisory.severity,
              title: m.advisory.id,
              subject: `pkg:npm/${queries[qi].name}@${queries[qi].version}`,
              advisory_id: m.advisory.id,
              servers: [],
              credentials: [],
              locations: [],
            })),
        ),
      } as unknown as ResultsPush;
      const { nodes, edges } = graphOfScan(report);
      await transactions.run((tx) => graph.replaceSource('bench', report.source_id, nodes, edges, tx));
    }
    const graphSeconds = (performance.now() - t0) / 1000;
    await ds.query('ANALYZE');
    const [{ nodes, edges }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM graph_nodes) AS nodes, (SELECT count(*)::int FROM graph_edges) AS edges`,
    );
    const vulnIds = (
      (await ds.query(`SELECT id FROM graph_nodes WHERE type = 'vulnerability' ORDER BY random() LIMIT $1`, [
        IMPACT_QUERIES,
      ])) as Array<{ id: string }>
    ).map((r) => r.id);

    const impact: number[] = [];
    const plain: number[] = [];
    let reached = 0;
    for (const id of vulnIds) {
      let s = performance.now();
      reached += (await graph.impact('bench', id)).nodes.length;
      impact.push(performance.now() - s);
      s = performance.now();
      await ds.query(`SELECT src FROM graph_edges WHERE tenant_id = $1 AND dst = $2`, ['bench', id]);
      plain.push(performance.now() - s);
    }
    const matching = [
      { ...fromDurations('lookup + exact matching', 'system', [], scanSeconds), count: PACKAGES },
      { ...fromDurations('one plain indexed SELECT', 'limit', [], baselineSeconds), count: PACKAGES },
    ].map((m) => ({ ...m, perSecond: Math.round(PACKAGES / m.seconds) }));
    const blast = [
      fromDurations('GET /v1/graph/impact statement', 'system', impact, sum(impact) / 1000),
      fromDurations('plain SELECT of direct in-edges', 'limit', plain, sum(plain) / 1000),
    ];
    const ms = (n: number) => Math.round(n * 1000) / 1000;
    return [
      {
        benchmark: 'scans',
        name: `matching: ${PACKAGES} packages against ${ADVISORIES} advisories`,
        unit: 'package',
        concurrency: 1,
        measurements: matching,
        ratios: [
          ratio(
            matching,
            'scans.match_vs_select',
            'matching / plain SELECT (packages/s)',
            matching[0].name,
            matching[1].name,
            'perSecond',
            'higher',
          ),
          {
            key: 'scans.match_seconds',
            label: 'scan time',
            value: ms(scanSeconds),
            better: 'lower',
            unit: 's',
            goal: 30,
          },
        ],
        notes: [
          `medians of 5 rounds; ${vulnerable} of ${PACKAGES} packages vulnerable; ${ADVISORIES} advisories imported in ${importSeconds.toFixed(1)} s; load ${loadAverage()}`,
        ],
      },
      {
        benchmark: 'scans',
        name: `blast radius: ${vulnIds.length} vulnerabilities, graph of ${nodes} nodes / ${edges} edges (built in ${graphSeconds.toFixed(1)} s)`,
        unit: 'query',
        concurrency: 1,
        measurements: blast,
        ratios: [
          {
            key: 'scans.impact_p95_ms',
            label: 'impact p95',
            value: ms(percentile(impact, 95)),
            better: 'lower',
            unit: 'ms',
            goal: 50,
          },
          ratio(
            blast,
            'scans.impact_p50_vs_select',
            'impact p50 / plain SELECT p50',
            blast[0].name,
            blast[1].name,
            'p50Ms',
            'lower',
          ),
        ],
        notes: [`${(reached / Math.max(1, vulnIds.length)).toFixed(1)} nodes reached per query on average`],
      },
    ];
  } finally {
    await ds.destroy();
    await scratch.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
