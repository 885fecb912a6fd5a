/**
 * The official MCP conformance suite, direct and through agent-bom: every scenario that passes against the test
 * server directly must pass through the gateway (streamable HTTP and legacy SSE upstreams) and through the proxy
 * (same supergateway bridge on both sides), for 2025-11-25 and 2026-07-28. One server, one gateway and two
 * bridges serve the whole file; the suites of all paths run concurrently. A relay defect fails its test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  PATHS,
  REVISIONS,
  conformanceNode,
  regressions,
  runMatrix,
  startTargets,
  type Matrix,
  type Targets,
} from './harness.mjs';

let targets: Targets | undefined;
let matrix: Matrix;

beforeAll(async () => {
  const node = conformanceNode();
  targets = await startTargets();
  matrix = await runMatrix(node, targets.urls, { concurrency: 5 });
}, 600_000);

afterAll(async () => {
  await targets?.stop();
});

describe('the conformance test server', () => {
  it.each(REVISIONS.map((revision) => revision.id))(
    'passes every required %s scenario directly',
    (revision) => {
      const direct = matrix[revision]!.direct!;
      const failing = Object.entries(direct.scenarios)
        .filter(([name, result]) => !direct.notScored[name] && !result.passed)
        .map(([name, result]) => `${name}: ${result.failedChecks.join(', ')}`);
      expect(Object.keys(direct.scenarios).length).toBeGreaterThan(25);
      expect(failing).toEqual([]);
    },
  );
});

const throughCases = REVISIONS.flatMap((revision) =>
  PATHS.filter((path) => path.through && (!path.revisions || path.revisions.includes(revision.id))).map(
    (path) => [revision.id, path.id, path.compareWith!] as const,
  ),
);

/**
 * Known gaps (issue 16), each named so that nothing else can hide behind it. 2026-07-28 `server-stateless`
 * through the proxy: four checks read the response stream for only 500–800 ms, and the stdio bridge starts a new
 * proxy and server for every stateless request; the proxy's start (about 0.48 s of CPU to its first frame on Node
 * 24, most of it loading Nest) is past that budget on the suite's shared machine, the bare server's (about 0.3 s)
 * only on a loaded one. The frames
 * are right (stateless-stdio.test.ts; with the budgets raised the proxy passes every check): see
 * docs/conformance.md.
 */
const KNOWN_GAPS: Record<string, string[]> = { '2026-07-28/proxy': ['server-stateless'] };

describe('agent-bom is transparent to the official suite', () => {
  it.each(throughCases)(
    '%s: every scenario that passes on its own passes through %s (compared with %s)',
    (revision, path) => {
      const base = matrix[revision]![PATHS.find((p) => p.id === path)!.compareWith!]!;
      const through = matrix[revision]![path]!;
      expect(Object.keys(through.scenarios).sort()).toEqual(Object.keys(base.scenarios).sort());
      const defects = regressions(matrix)
        .filter((r) => r.revision === revision && r.path === path)
        .filter((r) => !KNOWN_GAPS[`${revision}/${path}`]?.includes(r.scenario))
        .map((r) => `${r.scenario}: ${r.failedChecks.join(', ')}`);
      expect(defects).toEqual([]);
    },
  );
});
