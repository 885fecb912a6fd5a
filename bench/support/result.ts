/**
 * The one result shape every benchmark returns, its table, and the baseline check of quick mode.
 * docs/performance.md explains how to read it.
 */

/**
 * `system`: ours. `limit`: the simplest hand-written code doing the same job. `peer`: another product. `floor`:
 * no intermediary at all. `reference`: a straightforward slower implementation, for scale.
 */
export type Role = 'system' | 'limit' | 'peer' | 'floor' | 'reference';

export interface Measurement {
  name: string;
  role: Role;
  /** Units done (requests, calls, decisions, events, syncs) and over how long. */
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
  lastError?: string;
  /** CPU of the intermediary's processes (from /proc) per unit, µs; absent when it runs in the bench process. */
  cpuUsPerUnit?: number;
  /** Of `cpuUsPerUnit`, the part spent in the kernel (system calls: sockets, pipes), µs; absent in older runs. */
  systemCpuUsPerUnit?: number;
  peakRssMiB?: number;
  /** CPU of the benchmark process (the load generator, and whatever runs in it) per unit, µs. */
  loaderCpuUsPerUnit?: number;
  /**
   * CPU per unit, µs, of processes every candidate of the scenario may make work, beside its own, by short name
   * (`cp`: a control plane in its own process, `pg`: PostgreSQL's processes for its database): what a candidate
   * costs the rest of the machine. Absent where a scenario names none.
   */
  groupCpuUsPerUnit?: Record<string, number>;
  /** 1-minute load average of the machine when this candidate's measurement ended. */
  loadAverage: number;
}

/** A ratio of two measurements of one scenario; `better` says which direction is good. */
export interface Ratio {
  key: string;
  label: string;
  value: number;
  better: 'higher' | 'lower';
  /** The issue's goal for this ratio, when it has one. */
  goal?: number;
  /** Unit of value when not a plain ratio (e.g. 'ms' for an added latency). */
  unit?: string;
}

export interface Scenario {
  benchmark: string;
  name: string;
  /** What a unit is: request, call, decision, event, sync. */
  unit: string;
  concurrency: number;
  measurements: Measurement[];
  ratios: Ratio[];
  notes?: string[];
}

export interface RunResult {
  started_at: string;
  finished_at: string;
  mode: 'quick' | 'full';
  machine: { cpus: string; cores: number; memory_gib: number; node: string; load_average_start: number[] };
  scenarios: Scenario[];
}

/** Builds a ratio `a.field / b.field` of two named measurements of a scenario. */
export function ratio(
  measurements: Measurement[],
  key: string,
  label: string,
  a: string,
  b: string,
  field: 'perSecond' | 'cpuUsPerUnit' | 'p50Ms' | 'seconds',
  better: 'higher' | 'lower',
  goal?: number,
): Ratio {
  const x = measurements.find((m) => m.name === a)?.[field];
  const y = measurements.find((m) => m.name === b)?.[field];
  const value = x !== undefined && y ? Math.round((x / y) * 1000) / 1000 : NaN;
  return { key, label, value, better, ...(goal === undefined ? {} : { goal }) };
}

/** The difference `a.field − b.field` in ms (an added latency). */
export function added(
  measurements: Measurement[],
  key: string,
  label: string,
  a: string,
  b: string,
  field: 'p50Ms' | 'p99Ms' = 'p50Ms',
  goal?: number,
): Ratio {
  const x = measurements.find((m) => m.name === a)?.[field];
  const y = measurements.find((m) => m.name === b)?.[field];
  const value = x !== undefined && y !== undefined ? Math.round((x - y) * 1000) / 1000 : NaN;
  return { key, label, value, better: 'lower', unit: 'ms', ...(goal === undefined ? {} : { goal }) };
}

const fmt = (n: number | undefined, digits = 2) =>
  n === undefined || Number.isNaN(n) ? '–' : n >= 1000 ? n.toFixed(0) : n.toFixed(digits);

/** The names of the shared process groups any measurement of the scenario has (`cp`, `pg`), in order seen. */
export function groupsOf(s: Scenario): string[] {
  return [...new Set(s.measurements.flatMap((m) => Object.keys(m.groupCpuUsPerUnit ?? {})))];
}

/** The printed table of one scenario: one row per candidate, then its ratios. */
export function table(s: Scenario): string {
  const groups = groupsOf(s);
  const header = [
    'candidate',
    'role',
    `${s.unit}/s`,
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'CPU µs/unit',
    'of it sys',
    'peak RSS MiB',
    'loader µs/unit',
    ...groups.map((g) => `${g} µs/unit`),
    'load',
    'errors',
  ];
  const rows = s.measurements.map((m) => [
    m.name,
    m.role,
    fmt(m.perSecond, 0),
    fmt(m.p50Ms, 3),
    fmt(m.p90Ms, 3),
    fmt(m.p99Ms, 3),
    fmt(m.cpuUsPerUnit, 1),
    fmt(m.systemCpuUsPerUnit, 1),
    fmt(m.peakRssMiB, 1),
    fmt(m.loaderCpuUsPerUnit, 1),
    ...groups.map((g) => fmt(m.groupCpuUsPerUnit?.[g], 1)),
    fmt(m.loadAverage, 2),
    String(m.errors),
  ]);
  const widths = header.map((_, c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    '  ' + r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const out = [`${s.benchmark} / ${s.name} (concurrency ${s.concurrency})`, line(header), ...rows.map(line)];
  for (const r of s.ratios) {
    const value = r.unit
      ? `${r.value >= 0 ? '+' : ''}${r.value.toFixed(3)} ${r.unit}`
      : `${r.value.toFixed(2)}×`;
    const goal =
      r.goal === undefined
        ? ''
        : `   goal ${r.better === 'higher' ? '≥' : '≤'} ${r.unit ? `${r.goal} ${r.unit}` : `${r.goal}×`}: ${met(r) ? 'met' : 'NOT met'}`;
    out.push(`  → ${r.label}: ${value}${goal}`);
  }
  for (const m of s.measurements.filter((x) => x.lastError))
    out.push(`  ! ${m.name}: ${m.errors} errors, last: ${m.lastError}`);
  for (const note of s.notes ?? []) out.push(`  · ${note}`);
  return out.join('\n');
}

export const met = (r: Ratio) =>
  r.goal === undefined ? true : r.better === 'higher' ? r.value >= r.goal : r.value <= r.goal;

/** A committed baseline: ratio key → value, and the margin quick mode tolerates. */
export interface Baseline {
  margin: number;
  ratios: Record<string, number>;
}

/**
 * Ratios that fell past the margin: `higher` ratios below baseline × (1 − margin), `lower` ones above
 * baseline × (1 + margin). Only dimensionless ratios are gated; figures in ms (added latency, a p95) are printed,
 * not gated, as they move with the machine's load more than ratios do. Keys missing on either side are skipped
 * (a scenario added or removed).
 */
export function regressions(result: RunResult, baseline: Baseline): string[] {
  const failures: string[] = [];
  for (const s of result.scenarios) {
    for (const r of s.ratios) {
      const base = baseline.ratios[r.key];
      if (base === undefined || r.unit || !Number.isFinite(r.value)) continue;
      const limit = r.better === 'higher' ? base * (1 - baseline.margin) : base * (1 + baseline.margin);
      const bad = r.better === 'higher' ? r.value < limit : r.value > limit;
      if (bad)
        failures.push(
          `${r.key} (${r.label}): ${r.value} is past ${limit.toFixed(3)} (baseline ${base}, margin ${baseline.margin * 100}%)`,
        );
    }
  }
  return failures;
}
