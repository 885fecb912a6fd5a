/**
 * `npm run bench [-- name…]`: runs the benchmarks (all, or those named) and prints their figures.
 * Benchmarks are not tests: they print numbers beside a baseline measured in the same run.
 */
const BENCHMARKS: Record<string, () => Promise<string>> = {
  auth: async () => {
    const { run, report } = await import('./auth/auth-me.bench.js');
    return report(await run({ seconds: Number(process.env.BENCH_SECONDS ?? 10) }));
  },
  policy: async () => {
    const { run, report } = await import('./policy/policy.bench.js');
    return report(await run());
  },
  fleet: async () => {
    const { run, report } = await import('./fleet/fleet.bench.js');
    return report(await run({ endpoints: Number(process.env.BENCH_FLEET_ENDPOINTS ?? 10_000) }));
  },
  bundle: async () => {
    const { run, report } = await import('./policy/bundle.bench.js');
    return report(await run({ seconds: Number(process.env.BENCH_SECONDS ?? 10) }));
  },
  proxy: async () => {
    const { run, report } = await import('./proxy/proxy.bench.js');
    return report(
      await run({
        calls: Number(process.env.BENCH_PROXY_CALLS ?? 2000),
        concurrency: Number(process.env.BENCH_PROXY_CONCURRENCY ?? 16),
        coldRuns: Number(process.env.BENCH_PROXY_COLD_RUNS ?? 7),
      }),
    );
  },
  audit: async () => {
    const { run, report } = await import('./audit/audit.bench.js');
    return report(
      await run({
        seconds: Number(process.env.BENCH_SECONDS ?? 5),
        concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
      }),
    );
  },
  gateway: async () => {
    const { run, report } = await import('./gateway/gateway.bench.js');
    return report(
      await run({
        seconds: Number(process.env.BENCH_SECONDS ?? 5),
        upstream: process.env.BENCH_GATEWAY_UPSTREAM === 'sdk' ? 'sdk' : 'minimal',
      }),
    );
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHMARKS));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(BENCHMARKS)) {
  process.stdout.write((await BENCHMARKS[name]()) + '\n\n');
}
process.exit(0);
