/**
 * `npm run build && node dist/bench/console/console-render.js [--findings N] [--agents N]`: the console in headless
 * Chromium (Debian's, through playwright-core) against a real control plane on a scratch PostgreSQL database
 * (DATABASE_URL's server, else embedded), seeded through the public API as `agent-bom` would seed it:
 *
 * - a blast radius of about 2,000 nodes: `--agents` agents (default 1,000) on two endpoints, each configuring one
 *   server that runs one package affected by one advisory (endpoints + agents + servers + package + advisory);
 * - `--findings` findings (default 10,000) pushed as scan results from the same two endpoints.
 *
 * Then, timed in the page with the Performance API (performance.now, User Timing marks, resource timing,
 * long-task entries, requestAnimationFrame intervals):
 * - the graph explorer on the advisory: navigation → impact answer → first frame drawn by Cytoscape, long tasks,
 *   and frame intervals while zooming and panning;
 * - a finding's page (which looks its finding up by paging `GET /v1/findings`) until its blast radius is drawn;
 * - the findings table: navigation → first rows; each "Load more" (200 rows) → rows on screen, up to all of them;
 *   a sort of every loaded row; frame intervals while scrolling at a fast wheel's speed and while dragging the
 *   scrollbar from top to bottom; long tasks while scrolling; rows in the DOM.
 *
 * Prints one JSON document (docs/console.md "Performance" quotes it). Not part of `npm test` or `npm run bench`:
 * seeding and 50 "Load more"s take about a minute.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { percentile, startBenchControlPlane } from '../support/control-plane.js';
import { loadAverage } from '../support/proc.js';
import { ROOT } from '../support/processes.js';

const CHROMIUM = process.env.AGENT_BOM_TEST_CHROMIUM ?? '/usr/bin/chromium';
const GRAPH_RENDERED = 'console:graph-rendered'; // apps/console/src/components/graph-view.tsx
const ADVISORY = 'GHSA-bench-2000-node';
const PURL = 'pkg:npm/left-pad@1.0.0';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/**
 * The page's document, in functions Playwright runs in the page (passed as functions, which travel as source
 * without their closure: a string predicate would be run with eval there, which the console's CSP refuses). This
 * file is compiled without the DOM library.
 */
type InPage = { document: { querySelector(s: string): { textContent: string | null } | null } };

const round = (n: number) => Math.round(n * 10) / 10;
const stats = (values: number[]) => ({
  n: values.length,
  p50_ms: round(percentile(values, 50)),
  p95_ms: round(percentile(values, 95)),
  max_ms: round(Math.max(...values)),
});

/** Frame intervals (ms) while `act` runs in the page, from requestAnimationFrame timestamps. */
async function frames(page: Page, act: () => Promise<void>) {
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__framing = true;
    let last;
    const tick = (t) => {
      if (last !== undefined) window.__frames.push(t - last);
      last = t;
      if (window.__framing) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await act();
  const intervals = (await page.evaluate(
    '(() => { window.__framing = false; return window.__frames; })()',
  )) as number[];
  return {
    ...stats(intervals),
    over_50ms: intervals.filter((t) => t > 50).length,
    fps: round(1000 / (intervals.reduce((a, b) => a + b, 0) / intervals.length)),
  };
}

/** Long tasks (> 50 ms of main thread) since `since` (performance.now() of the page). */
async function longTasks(page: Page, since = 0) {
  const tasks = (await page.evaluate(
    `window.__longTasks.filter((t) => t.startTime >= ${since}).map((t) => t.duration)`,
  )) as number[];
  return {
    count: tasks.length,
    total_ms: round(tasks.reduce((a, b) => a + b, 0)),
    max_ms: round(Math.max(0, ...tasks)),
  };
}

const PROFILE = process.argv.includes('--profile');
const TABLE_ONLY = process.argv.includes('--table-only');

/** Frame intervals while the graph is zoomed (10 wheel steps) and panned (a 30-step drag). */
async function zoomAndPan(page: Page) {
  const canvas = page.getByRole('img', { name: /^Graph of/ });
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  return frames(page, async () => {
    for (let i = 0; i < 10; i++) {
      await page.mouse.wheel(0, -120);
      await page.waitForTimeout(50);
    }
    await page.mouse.down();
    for (let i = 0; i < 30; i++) {
      await page.mouse.move(box.x + box.width / 2 + i * 8, box.y + box.height / 2 + i * 4);
      await page.waitForTimeout(16);
    }
    await page.mouse.up();
  });
}

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }>;
  samples?: number[];
  timeDeltas?: number[];
}

/** `--profile`: the functions with the most self time in a CPU profile, for finding what is slow. */
function topFunctions(profile: CpuProfile): string {
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  (profile.samples ?? []).forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas?.[i] ?? 0) / 1000);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([key, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${key}`)
    .join('\n');
}

async function main(): Promise<void> {
  const FINDINGS = flag('findings', 10_000);
  const AGENTS = flag('agents', 1_000);
  const started = performance.now();
  // AGENT_BOM_CONSOLE_DIR: another build of the console to compare (default: this checkout's dist/console).
  const cp = await startBenchControlPlane({
    AGENT_BOM_CONSOLE_DIR: process.env.AGENT_BOM_CONSOLE_DIR ?? path.join(ROOT, 'dist/console'),
  });
  try {
    const admin = await cp.key('admin');
    const push = await cp.key('fleet-push');
    const call = async <T>(key: string, method: string, url: string, body?: unknown): Promise<T> => {
      const res = await fetch(cp.baseUrl + url, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    // Seed: two endpoints, AGENTS agents between them, FINDINGS findings between them.
    const seedStarted = performance.now();
    const sources = ['bench-a', 'bench-b'];
    let findingNo = 0;
    let sampleFinding = '';
    for (const [e, source] of sources.entries()) {
      const agents = Array.from({ length: AGENTS / sources.length }, (_, i) => ({
        name: `agent-${e}-${String(i).padStart(4, '0')}`,
        client: 'cursor' as const,
        servers: [
          {
            name: 'pad',
            transport: 'stdio' as const,
            command: 'npx',
            args: ['left-pad@1.0.0'],
            auth_mode: 'none' as const,
            config_path: '/home/bench/.cursor/mcp.json',
          },
        ],
      }));
      const { endpoint_credential } = await call<{ endpoint_credential: string }>(
        push,
        'POST',
        '/v1/fleet/sync',
        {
          source_id: source,
          endpoint: { hostname: `${source}-host`, os: 'linux' },
          agents,
        },
      );
      const count = FINDINGS / sources.length;
      const findings = Array.from({ length: count }, () => {
        const n = findingNo++;
        return {
          id: `f_${n.toString(16).padStart(24, '0')}`,
          kind: 'vulnerability' as const,
          severity: (['low', 'medium', 'high', 'critical'] as const)[n % 4],
          title: `BENCH-${n}: prototype pollution in pkg-${n}`,
          subject: `pkg:npm/pkg-${n}@1.0.${n % 10}`,
          advisory_id: `BENCH-${n}`,
          fixed_version: `1.1.${n % 10}`,
          servers: [],
          credentials: [],
          locations: [],
        };
      });
      const refs = agents.map((a) => `${a.name}/pad`);
      const blast = {
        id: `f_${'b'.repeat(22)}${e.toString(16).padStart(2, '0')}`,
        kind: 'vulnerability' as const,
        severity: 'critical' as const,
        title: `${ADVISORY} in left-pad@1.0.0`,
        subject: PURL,
        advisory_id: ADVISORY,
        fixed_version: '1.3.0',
        servers: refs.slice(0, 1000),
        credentials: [],
        locations: [],
      };
      // the blast-radius finding is the last one listed, so its page has to look through every page of findings
      sampleFinding = blast.id;
      await call(endpoint_credential, 'POST', '/v1/results/push', {
        schema_version: '1',
        document_type: 'agent-bom.scan',
        scan_id: randomUUID(),
        generated_at: new Date().toISOString(),
        source_id: source,
        endpoint: { hostname: `${source}-host`, os: 'linux' },
        advisory_source: { description: 'bench' },
        agents: agents.map((a) => ({ ...a, config_paths: ['/home/bench/.cursor/mcp.json'] })),
        packages: [
          {
            purl: PURL,
            ecosystem: 'npm',
            name: 'left-pad',
            version: '1.0.0',
            confidence: 'pinned',
            servers: refs,
            origins: [],
          },
        ],
        findings: [...findings.slice(0, count - 1), blast],
        summary: {},
        warnings: [],
      });
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const impact = await call<{ counts: Record<string, number>; edges: unknown[] }>(
      admin,
      'GET',
      `/v1/graph/impact?node=${encodeURIComponent(`vuln:${ADVISORY}`)}`,
    );
    const impactNodes = 1 + Object.values(impact.counts).reduce((a, b) => a + b, 0);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Long tasks from the first script on (an init script runs through the DevTools protocol: not subject to CSP).
    await context.addInitScript(`window.__longTasks = [];
      new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });`);
    const page = await context.newPage();
    await page.goto(`${cp.baseUrl}/login`);
    await page.getByLabel('API key', { exact: true }).fill(admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: 30_000 });

    // 1. Graph explorer on the advisory: ~2,000 nodes (`--table-only` skips 1 and 2).
    const graphRuns = [];
    for (let run = 0; run < (TABLE_ONLY ? 0 : 3); run++) {
      await page.goto(`${cp.baseUrl}/graph?node=${encodeURIComponent(`vuln:${ADVISORY}`)}`);
      await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, GRAPH_RENDERED, {
        timeout: 60_000,
      });
      graphRuns.push(
        (await page.evaluate(`(() => {
          const mark = performance.getEntriesByName('${GRAPH_RENDERED}')[0];
          const answer = performance.getEntriesByType('resource').find((r) => r.name.includes('/v1/graph/impact'));
          return { first_frame_ms: mark.startTime, impact_answer_ms: answer ? answer.responseEnd : null,
                   impact_bytes: answer ? answer.encodedBodySize : null, nodes: mark.detail };
        })()`)) as { first_frame_ms: number; impact_answer_ms: number; impact_bytes: number; nodes: number },
      );
    }
    const graphLongTasks = await longTasks(page);
    const zoomPan = TABLE_ONLY ? undefined : await zoomAndPan(page);

    // 2. A finding's page: its blast radius, after looking the finding up page by page.
    const findingRuns = [];
    for (let run = 0; run < (TABLE_ONLY ? 0 : 2); run++) {
      await page.goto(`${cp.baseUrl}/findings/${sampleFinding}`);
      await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, GRAPH_RENDERED, {
        timeout: 120_000,
      });
      findingRuns.push(
        (await page.evaluate(`(() => ({
          first_frame_ms: performance.getEntriesByName('${GRAPH_RENDERED}')[0].startTime,
          findings_requests: performance.getEntriesByType('resource').filter((r) => r.name.includes('/v1/findings')).length,
        }))()`)) as { first_frame_ms: number; findings_requests: number },
      );
    }

    // 3. Findings table: first rows, every "Load more", sort, scroll.
    await page.goto(`${cp.baseUrl}/findings?status=all`);
    const table = '[aria-label="Findings table"]';
    await page.waitForFunction(
      (selector) => !!(globalThis as unknown as InPage).document.querySelector(`${selector} tbody tr td`),
      table,
      {
        polling: 'raf',
        timeout: 60_000,
      },
    );
    const firstRows = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const page1 = performance.getEntriesByType('resource').find((r) => r.name.includes('/v1/findings'));
      return { first_rows_ms: performance.now(), first_page_answer_ms: page1 ? page1.responseEnd : null,
               dom_content_loaded_ms: nav.domContentLoadedEventEnd };
    })()`)) as Record<string, number>;
    // (the performance.now() above is read right after the first row appeared; its lag is under one frame)
    const loadMore: number[] = [];
    const loadMoreRequest: number[] = [];
    for (let loaded = 200; loaded < FINDINGS; loaded += 200) {
      const before = (await page.evaluate('performance.now()')) as number;
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.waitForFunction(
        (text) =>
          !!(globalThis as unknown as InPage).document
            .querySelector('.table-foot')
            ?.textContent?.startsWith(text),
        `${loaded + 200} rows loaded`,
        { polling: 'raf', timeout: 60_000 },
      );
      loadMore.push(((await page.evaluate('performance.now()')) as number) - before);
      loadMoreRequest.push(
        (await page.evaluate(`(() => {
          const r = performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/findings')).at(-1);
          return r.responseEnd - r.startTime;
        })()`)) as number,
      );
    }
    const rowsInDom = (await page.evaluate(
      `document.querySelectorAll('${table} tbody tr').length`,
    )) as number;
    const sortStarted = (await page.evaluate('performance.now()')) as number;
    await page.locator(table).getByRole('button', { name: 'Severity' }).click();
    await page.waitForFunction(
      `document.querySelector('${table} th[aria-sort]:not([aria-sort="none"])')`,
      null,
      {
        polling: 'raf',
      },
    );
    const sortMs = ((await page.evaluate('performance.now()')) as number) - sortStarted;
    const tasksBeforeScroll = (await page.evaluate('performance.now()')) as number;
    const profiler = PROFILE ? await page.context().newCDPSession(page) : undefined;
    if (profiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.start');
    }
    // A fast wheel (60 px a frame, about 3,600 px/s) from the top for 300 frames…
    const scroll = await frames(page, async () => {
      await page.evaluate(`new Promise((done) => {
        const el = document.querySelector('${table}');
        el.scrollTop = 0;
        let i = 0;
        const step = () => {
          el.scrollTop += 60;
          if (++i < 300) requestAnimationFrame(step); else done();
        };
        requestAnimationFrame(step);
      })`);
    });
    // …and the scrollbar dragged: 240 frames from top to bottom (every frame shows new rows only).
    const drag = await frames(page, async () => {
      await page.evaluate(`new Promise((done) => {
        const el = document.querySelector('${table}');
        const steps = 240;
        const end = el.scrollHeight - el.clientHeight;
        let i = 0;
        const step = () => {
          el.scrollTop = end * (++i / steps);
          if (i < steps) requestAnimationFrame(step); else done();
        };
        requestAnimationFrame(step);
      })`);
    });
    const scrollLongTasks = await longTasks(page, tasksBeforeScroll);
    if (profiler) process.stderr.write(topFunctions((await profiler.send('Profiler.stop')).profile) + '\n');
    const lastRowVisible = (await page.evaluate(
      `document.querySelector('${table}').scrollTop + document.querySelector('${table}').clientHeight >= document.querySelector('${table}').scrollHeight - 2`,
    )) as boolean;
    const rowsInDomAtEnd = (await page.evaluate(
      `document.querySelectorAll('${table} tbody tr').length`,
    )) as number;
    await browser.close();

    const median = (values: number[]) => round(percentile(values, 50));
    process.stdout.write(
      JSON.stringify(
        {
          machine: { load_average: loadAverage(), chromium: CHROMIUM },
          seed: { findings: FINDINGS, agents: AGENTS, seconds: round(seedSeconds) },
          graph: {
            nodes: impactNodes,
            edges: impact.edges.length,
            runs: graphRuns.map((r) => ({
              ...r,
              first_frame_ms: round(r.first_frame_ms),
              impact_answer_ms: round(r.impact_answer_ms),
            })),
            first_frame_median_ms: graphRuns.length ? median(graphRuns.map((r) => r.first_frame_ms)) : null,
            long_tasks_last_run: graphLongTasks,
            zoom_and_pan_frames: zoomPan,
          },
          finding_page: {
            runs: findingRuns.map((r) => ({ ...r, first_frame_ms: round(r.first_frame_ms) })),
          },
          findings_table: {
            ...Object.fromEntries(Object.entries(firstRows).map(([k, v]) => [k, round(v)])),
            load_more_200_rows: stats(loadMore),
            load_more_request: stats(loadMoreRequest),
            rows_loaded: FINDINGS,
            rows_in_dom: rowsInDom,
            sort_all_rows_ms: round(sortMs),
            wheel_scroll_frames: scroll,
            scrollbar_drag_top_to_bottom_frames: drag,
            scroll_long_tasks: scrollLongTasks,
            rows_in_dom_at_bottom: rowsInDomAtEnd,
            reached_bottom: lastRowVisible,
          },
          total_seconds: round((performance.now() - started) / 1000),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await cp.close();
  }
}

await main();
