/**
 * `node dist/bench/report.js bench/results/<run>.json`: prints a run's scenarios as Markdown tables (what
 * docs/performance.md shows), every figure beside its limit line from the same run.
 */
import fs from 'node:fs/promises';
import { groupsOf, met, type Measurement, type RunResult, type Scenario } from './support/result.js';

const num = (n: number | undefined, digits: number) =>
  n === undefined || !Number.isFinite(n)
    ? '–'
    : n >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : n.toFixed(digits);

function row(m: Measurement, groups: string[], system: boolean): string {
  const shared = groups.map((g) => ` ${num(m.groupCpuUsPerUnit?.[g], 1)} |`).join('');
  return `| ${m.name} | ${m.role} | ${num(m.perSecond, 0)} | ${num(m.p50Ms, 3)} | ${num(m.p90Ms, 3)} | ${num(m.p99Ms, 3)} | ${num(m.cpuUsPerUnit, 1)} |${system ? ` ${num(m.systemCpuUsPerUnit, 1)} |` : ''}${shared} ${num(m.peakRssMiB, 1)} | ${num(m.loadAverage, 1)} | ${m.errors} |`;
}

export function markdown(s: Scenario): string {
  // Runs written before the shared columns existed have none: the table is as it was.
  const groups = groupsOf(s);
  // Runs written before the kernel's share was recorded have no such column.
  const system = s.measurements.some((m) => m.systemCpuUsPerUnit !== undefined);
  const lines = [
    `**${s.benchmark} — ${s.name}** (concurrency ${s.concurrency})`,
    '',
    `| candidate | role | ${s.unit}/s | p50 ms | p90 ms | p99 ms | CPU µs/${s.unit} |${system ? ' of it sys |' : ''}${groups.map((g) => ` ${g} µs/${s.unit} |`).join('')} peak RSS MiB | load avg | errors |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: |${system ? ' ---: |' : ''}${groups.map(() => ' ---: |').join('')} ---: | ---: | ---: |`,
    ...s.measurements.map((m) => row(m, groups, system)),
    '',
  ];
  for (const r of s.ratios) {
    const value = r.unit ? `${r.value.toFixed(3)} ${r.unit}` : `${r.value.toFixed(2)}×`;
    const goal =
      r.goal === undefined
        ? ''
        : ` — goal ${r.better === 'higher' ? '≥' : '≤'} ${r.unit ? `${r.goal} ${r.unit}` : `${r.goal}×`}: **${met(r) ? 'met' : 'not met'}**`;
    lines.push(`- ${r.label}: ${value}${goal}`);
  }
  for (const note of s.notes ?? []) lines.push(`- ${note}`);
  return lines.join('\n') + '\n';
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/report.js bench/results/<run>.json\n');
  process.exit(2);
}
const result = JSON.parse(await fs.readFile(file, 'utf8')) as RunResult;
process.stdout.write(
  `Run ${result.started_at} → ${result.finished_at} (${result.mode}), ${result.machine.cpus}, node ${result.machine.node}, ` +
    `load average at start ${result.machine.load_average_start.join(' / ')}\n\n`,
);
for (const s of result.scenarios) process.stdout.write(markdown(s) + '\n');
