/**
 * `npm run bench [-- [--quick] [--no-baseline-check] [--update-baseline] name…]`: runs the benchmarks (all, or
 * those named), each measuring the system beside its limit line (and a peer where one exists), interleaved in
 * rounds; prints one table per scenario and writes the JSON under bench/results/. In quick mode (what `.ci/run`
 * runs) it also compares every ratio with bench/results/baseline-quick.json and exits 1 when one fell past the margin.
 * docs/performance.md explains the method and how to read the figures.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadAverage } from './support/proc.js';
import { ROOT } from './support/processes.js';
import { met, regressions, table, type Baseline, type RunResult, type Scenario } from './support/result.js';

type Mode = 'quick' | 'full';

/** Each benchmark with its quick and full sizes. Quick mode stays under 2 minutes on 2 shared cores. */
const BENCHMARKS: Record<string, (mode: Mode) => Promise<Scenario[]>> = {
  gateway: async (mode) => {
    const { run } = await import('./gateway/gateway.bench.js');
    // BENCH_GATEWAY_CLIENTS=50 measures one client count (for a profile of it: bench/profile.ts); no replicas then.
    const only = process.env.BENCH_GATEWAY_CLIENTS?.split(',').map(Number);
    const options =
      mode === 'quick'
        ? { levels: [1, 50], seconds: 2, rounds: 2, replicas: false }
        : { levels: [1, 50, 200, 500], seconds: 10, rounds: 5, replicas: true, settleSeconds: 1.2 };
    return run(only?.every((n) => n > 0) ? { ...options, levels: only, replicas: false } : options);
  },
  proxy: async (mode) => {
    const { run } = await import('./proxy/proxy.bench.js');
    return run(
      mode === 'quick'
        ? { seconds: 1.5, rounds: 2, concurrency: 16, coldRuns: 2 }
        : { seconds: 10, rounds: 5, concurrency: 16, coldRuns: 7 },
    );
  },
  policy: async (mode) => {
    const { run, scenarios } = await import('./policy/policy.bench.js');
    return scenarios(run(mode === 'quick' ? 0.05 : 1));
  },
  bundle: async (mode) => {
    const { run } = await import('./policy/bundle.bench.js');
    return run(
      mode === 'quick'
        ? { seconds: 2, rounds: 2, uncached: false }
        : { seconds: 10, rounds: 5, uncached: true },
    );
  },
  auth: async (mode) => {
    const { run } = await import('./auth/auth-me.bench.js');
    return run(mode === 'quick' ? { seconds: 1, rounds: 2 } : { seconds: 6, rounds: 3 });
  },
  fleet: async (mode) => {
    const { run } = await import('./fleet/fleet.bench.js');
    return run(
      mode === 'quick'
        ? { endpoints: 300, httpSyncs: 20, discoveryCalls: 10 }
        : { endpoints: 10_000, httpSyncs: 200, discoveryCalls: 50 },
    );
  },
  audit: async (mode) => {
    const { run, scenarios } = await import('./audit/audit.bench.js');
    return scenarios(
      await run(mode === 'quick' ? { seconds: 1, concurrency: 4 } : { seconds: 5, concurrency: 4 }),
    );
  },
  scans: async (mode) => {
    const { run } = await import('./scans/scans.bench.js');
    return run(
      mode === 'quick'
        ? { servers: 500, packages: 10_000, advisories: 20_000, impactQueries: 100 }
        : { servers: 1_000, packages: 20_000, advisories: 100_000, impactQueries: 300 },
    );
  },
};

const BASELINE = path.join(ROOT, 'bench/results/baseline-quick.json');
/**
 * How far a ratio may fall below its baseline before quick mode fails: wide, because the machine is shared and
 * a short run under load moves ratios by tens of percent (docs/performance.md "Quick mode").
 */
const MARGIN = 0.6;
/** Above this load average per core the gate reports but does not fail (docs/performance.md "Quick mode"). */
const OVERLOAD = 6;

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const wanted = argv.filter((a) => !a.startsWith('--'));
const known = new Set(['--quick', '--no-baseline-check', '--update-baseline']);
const unknown = [
  ...wanted.filter((name) => !(name in BENCHMARKS)),
  ...[...flags].filter((f) => !known.has(f)),
];
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark(s) or flag(s): ${unknown.join(', ')}; benchmarks: ${Object.keys(BENCHMARKS).join(', ')}; ` +
      `flags: ${[...known].join(', ')}\n`,
  );
  process.exit(2);
}
const mode: Mode = flags.has('--quick') ? 'quick' : 'full';
const result: RunResult = {
  started_at: new Date().toISOString(),
  finished_at: '',
  mode,
  machine: {
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`,
    cores: os.availableParallelism(),
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_average_start: os.loadavg().map((n) => Math.round(n * 100) / 100),
  },
  scenarios: [],
};
process.stdout.write(
  `agent-bom bench (${mode}): ${result.machine.cpus}, ${result.machine.memory_gib} GiB, node ${process.version}, ` +
    `load average ${result.machine.load_average_start.join(' ')}\n\n`,
);
/** Runs one benchmark and prints its tables. */
async function measure(name: string): Promise<Scenario[]> {
  const started = performance.now();
  const scenarios = await BENCHMARKS[name](mode);
  for (const scenario of scenarios) process.stdout.write(table(scenario) + '\n\n');
  process.stdout.write(
    `(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s, load ${loadAverage()})\n\n`,
  );
  return scenarios;
}

// Quick mode leaves out what no goal or gate needs (auth); name it to run it.
const names = wanted.length ? wanted : Object.keys(BENCHMARKS).filter((n) => mode === 'full' || n !== 'auth');
for (const name of names) result.scenarios.push(...(await measure(name)));
result.finished_at = new Date().toISOString();

const dir = path.join(ROOT, 'bench/results');
await fs.mkdir(dir, { recursive: true });
const file = path.join(dir, `${result.started_at.replace(/[:.]/g, '-')}-${mode}.json`);
await fs.writeFile(file, JSON.stringify(result, null, 2) + '\n');
const goals = result.scenarios.flatMap((s) => s.ratios).filter((r) => r.goal !== undefined);
process.stdout.write(
  `goals met: ${goals.filter(met).length}/${goals.length}; results: ${path.relative(process.cwd(), file)}\n`,
);

if (flags.has('--update-baseline')) {
  const baseline: Baseline = {
    margin: MARGIN,
    ratios: Object.fromEntries(
      result.scenarios
        .flatMap((s) => s.ratios)
        .filter((r) => !r.unit && Number.isFinite(r.value))
        .map((r) => [r.key, r.value]),
    ),
  };
  await fs.writeFile(BASELINE, JSON.stringify(baseline, null, 2) + '\n');
  process.stdout.write(`baseline written: ${path.relative(process.cwd(), BASELINE)}\n`);
} else if (mode === 'quick' && !flags.has('--no-baseline-check')) {
  const baseline = JSON.parse(await fs.readFile(BASELINE, 'utf8')) as Baseline;
  let failures = regressions(result, baseline);
  if (failures.length) {
    // A shared machine makes single short runs noisy: a regression must show twice to fail the build.
    const again = [...new Set(failures.map((f) => f.split('.')[0]))];
    process.stdout.write(`\npast the margin, measuring again: ${again.join(', ')}\n\n`);
    const rerun: RunResult = { ...result, scenarios: [] };
    for (const name of again) rerun.scenarios.push(...(await measure(name)));
    failures = regressions(rerun, baseline);
  }
  if (failures.length) {
    process.stdout.write(
      `\nbelow the committed baseline (${path.relative(process.cwd(), BASELINE)}), twice:\n  ${failures.join('\n  ')}\n`,
    );
    // Past OVERLOAD runnable tasks per core, short runs say more about the neighbours than about the code.
    const load = Math.max(result.machine.load_average_start[0], loadAverage());
    if (load > OVERLOAD * result.machine.cores) {
      process.stdout.write(
        `not failing: the load average reached ${load} on ${result.machine.cores} cores (gate applies up to ${OVERLOAD * result.machine.cores})\n`,
      );
      process.exit(0);
    }
    process.exit(1);
  }
  process.stdout.write(`every ratio within ${baseline.margin * 100}% of the committed baseline\n`);
}
process.exit(0);
