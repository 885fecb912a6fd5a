/**
 * `node dist/bench/scans/scans.bench.js` (DATABASE_URL of a PostgreSQL the run may create a database in):
 * a scan of SERVERS servers / PACKAGES packages against ADVISORIES advisories, and blast-radius latency at that
 * size, each beside a baseline measured in the same run:
 * - scan: advisory lookup + exact version matching through the PostgreSQL source, vs the same lookups as one
 *   plain indexed SELECT (no matching);
 * - impact: `GET /v1/graph/impact`'s one recursive statement (nodes and edges), vs a plain indexed SELECT of
 *   the node's direct in-edges.
 * Self-contained in bench/scans (not wired into bench/run.ts while that is being restructured).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { matchPackages, type Advisory, type PackageQuery } from '../../libs/advisories/src/index.js';
import { createDataSource, migrateWithLock } from '../../src/core/database/data-source.js';
import { Transactions } from '../../src/core/database/transactions.js';
import { AdvisoriesRepository } from '../../src/modules/advisories/advisories.repository.js';
import { graphOfScan } from '../../src/modules/graph/graph-build.js';
import { GraphRepository } from '../../src/modules/graph/graph.repository.js';
import type { ResultsPush } from '../../src/modules/scans/results-push.schema.js';

const SERVERS = Number(process.env.BENCH_SCAN_SERVERS ?? 1000);
const PACKAGES = Number(process.env.BENCH_SCAN_PACKAGES ?? 20_000);
const ADVISORIES = Number(process.env.BENCH_SCAN_ADVISORIES ?? 100_000);
const IMPACT_QUERIES = Number(process.env.BENCH_SCAN_IMPACT_QUERIES ?? 300);
const NAMES = 50_000; // distinct npm package names the advisories spread over

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

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

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('set DATABASE_URL (a PostgreSQL where this run may create a database)');
  const name = `bench_scans_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const ds = createDataSource(url.href, 8);
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
    t0 = performance.now();
    const matches = await matchPackages(source, queries);
    const scanSeconds = (performance.now() - t0) / 1000;
    const vulnerable = matches.filter((m) => m.length).length;
    t0 = performance.now();
    await ds.query(
      `SELECT p.name, a.record FROM unnest($1::text[]) AS k(name)
         JOIN advisory_packages p ON p.ecosystem = 'npm' AND p.name = k.name JOIN advisories a ON a.id = p.advisory_id`,
      [[...new Set(queries.map((q) => q.name))]],
    );
    const baselineSeconds = (performance.now() - t0) / 1000;

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
    const p95 = percentile(impact, 95);
    const basep95 = percentile(plain, 95);
    process.stdout.write(
      [
        `scans bench: ${SERVERS} servers, ${PACKAGES} packages, ${ADVISORIES} advisories (${NAMES} package names)`,
        `  import          ${importSeconds.toFixed(1)} s (${Math.round(ADVISORIES / importSeconds)} advisories/s)`,
        `  scan (lookup + exact matching) ${scanSeconds.toFixed(2)} s, ${vulnerable} vulnerable packages   goal < 30 s`,
        `  baseline (one plain indexed SELECT of the same names) ${baselineSeconds.toFixed(2)} s   ratio ${(scanSeconds / baselineSeconds).toFixed(1)}x`,
        `  graph build     ${graphSeconds.toFixed(1)} s: ${nodes} nodes, ${edges} edges`,
        `  impact (recursive) p50 ${percentile(impact, 50).toFixed(2)} ms p95 ${p95.toFixed(2)} ms over ${vulnIds.length} vulnerabilities, avg ${(reached / Math.max(1, vulnIds.length)).toFixed(1)} nodes reached   goal p95 < 50 ms`,
        `  baseline (plain indexed SELECT of direct in-edges) p50 ${percentile(plain, 50).toFixed(2)} ms p95 ${basep95.toFixed(2)} ms   ratio p95 ${(p95 / basep95).toFixed(1)}x`,
      ].join('\n') + '\n',
    );
  } finally {
    await ds.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
