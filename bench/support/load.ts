import { Pool } from 'undici';
import { GroupWatch, loadAverage, ProcessWatch } from './proc.js';
import type { Measurement, Role } from './result.js';

/** One HTTP request a load generator repeats. */
export interface HttpTarget {
  url: string;
  method?: 'GET' | 'POST';
  /** A fixed body, or one per request (e.g. a fresh JSON-RPC id). */
  body?: string | (() => string);
  headers?: Record<string, string>;
  /** A substring a good answer contains (e.g. `"result"`): a JSON-RPC error with status 200 is an error. */
  expect?: string;
  /** Statuses that count as success (default: any 2xx). */
  ok?: (status: number) => boolean;
}

/** Something measured: the system, its limit line, a peer, or the floor (direct, no intermediary). */
export interface Candidate {
  name: string;
  role: Role;
  /** One unit of work (a request, a call, a decision); its duration is one latency sample. */
  task: () => Promise<void>;
  /** Processes doing this candidate's work, for CPU per request and peak RSS (never the load generator). */
  pids?: () => number[];
  close?: () => Promise<void>;
}

/** An HTTP candidate: a pool of `connections` keep-alive connections, each a closed-loop client. */
export function httpCandidate(
  name: string,
  role: Role,
  target: HttpTarget,
  connections: number,
  pids?: () => number[],
): Candidate {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const path = url.pathname + url.search;
  const ok = target.ok ?? ((status: number) => status >= 200 && status < 300);
  const body = target.body;
  return {
    name,
    role,
    pids,
    task: async () => {
      const text = typeof body === 'function' ? body() : body;
      const res = await pool.request({
        path,
        method: target.method ?? 'GET',
        headers:
          text === undefined
            ? target.headers
            : { 'content-length': String(Buffer.byteLength(text)), ...target.headers },
        body: text,
      });
      if (target.expect) {
        const answer = await res.body.text();
        if (!answer.includes(target.expect))
          throw new Error(`${name}: unexpected answer ${answer.slice(0, 200)}`);
      } else await res.body.dump({ limit: Infinity });
      if (!ok(res.statusCode)) throw new Error(`${name}: status ${res.statusCode}`);
    },
    // Idempotent: interleave closes its candidates, and a benchmark may too.
    close: () => (pool.closed ? Promise.resolve() : pool.close()),
  };
}

/** Accumulates one candidate's samples across rounds. */
class Tally {
  latencies: number[] = [];
  errors = 0;
  nanos = 0n;
  cpuMicros = 0;
  systemMicros = 0;
  loaderMicros = 0;
  groupMicros: Record<string, number> = {};
  peakRss = 0;
  lastError?: string;
}

/**
 * Processes every candidate of a scenario may make work, beside its own (a control plane, PostgreSQL), by a short
 * name: their CPU while each candidate is measured is that candidate's `groupCpuUsPerUnit[name]`. Resolved at the
 * start and the end of each slice (see {@link GroupWatch}).
 */
export type SharedProcesses = Record<string, () => number[]>;

export interface InterleaveOptions {
  concurrency: number;
  seconds: number;
  rounds?: number;
  warmupSeconds?: number;
  shared?: SharedProcesses;
  /**
   * After each slice, how long the shared processes are still watched (and the next candidate waits) before their
   * CPU is read: work a candidate hands on late (an audit batch pushed on a timer) then lands on that candidate,
   * not on the next one. 0 (the default) reads them when the slice ends.
   */
  settleSeconds?: number;
}

/**
 * Measures every candidate at `concurrency` in-flight units, interleaved: `rounds` rounds, each giving every
 * candidate `seconds / rounds` (the order rotates per round), so all see the same background load on a shared
 * machine. A short warm-up per candidate comes first (JIT, pools, caches).
 */
export async function interleave(
  candidates: Candidate[],
  options: InterleaveOptions,
): Promise<Measurement[]> {
  const rounds = options.rounds ?? 5;
  const slice = (options.seconds / rounds) * 1000;
  const tallies = candidates.map(() => new Tally());
  const warm = (options.warmupSeconds ?? Math.min(1, options.seconds / 5)) * 1000;
  const shared = { processes: options.shared ?? {}, settleMs: (options.settleSeconds ?? 0) * 1000 };
  for (const candidate of candidates)
    await drive(candidate, options.concurrency, warm, new Tally(), false, shared);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < candidates.length; k++) {
        const i = (k + round) % candidates.length;
        await drive(candidates[i], options.concurrency, slice, tallies[i], true, shared);
      }
    }
  } finally {
    // Keep-alive connections left open would hold the servers' graceful close (and a CPU profile) hostage.
    await Promise.all(candidates.map((c) => c.close?.()));
  }
  return candidates.map((candidate, i) => summarise(candidate, tallies[i]));
}

async function drive(
  candidate: Candidate,
  concurrency: number,
  ms: number,
  tally: Tally,
  watch: boolean,
  shared: { processes: SharedProcesses; settleMs: number },
): Promise<void> {
  const pids = watch ? (candidate.pids?.() ?? []) : [];
  const watcher = pids.length ? new ProcessWatch(pids) : undefined;
  const groups = watch
    ? Object.entries(shared.processes).map(([name, resolve]) => [name, new GroupWatch(resolve)] as const)
    : [];
  const loader = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await candidate.task();
        tally.latencies.push(performance.now() - t0);
      } catch (error) {
        tally.errors++;
        tally.lastError = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  tally.nanos += process.hrtime.bigint() - started;
  const used = process.cpuUsage(loader);
  tally.loaderMicros += used.user + used.system;
  if (watcher) {
    const { cpuMicros, systemMicros, peakRssBytes } = watcher.stop();
    tally.cpuMicros += cpuMicros;
    tally.systemMicros += systemMicros;
    tally.peakRss = Math.max(tally.peakRss, peakRssBytes);
  }
  if (groups.length && shared.settleMs > 0)
    await new Promise((resolve) => setTimeout(resolve, shared.settleMs));
  for (const [name, group] of groups) tally.groupMicros[name] = (tally.groupMicros[name] ?? 0) + group.stop();
}

/** Percentile p (0-100) of ascending-sorted values. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarise(candidate: Candidate, tally: Tally): Measurement {
  const sorted = Float64Array.from(tally.latencies).sort();
  const seconds = Number(tally.nanos) / 1e9;
  const count = sorted.length;
  return {
    name: candidate.name,
    role: candidate.role,
    count,
    seconds: round(seconds, 3),
    perSecond: round(count / seconds, 1),
    p50Ms: round(percentileOfSorted(sorted, 50), 4),
    p90Ms: round(percentileOfSorted(sorted, 90), 4),
    p99Ms: round(percentileOfSorted(sorted, 99), 4),
    errors: tally.errors,
    ...(tally.lastError ? { lastError: tally.lastError } : {}),
    ...(candidate.pids && count
      ? {
          cpuUsPerUnit: round(tally.cpuMicros / count, 2),
          systemCpuUsPerUnit: round(tally.systemMicros / count, 2),
          peakRssMiB: round(tally.peakRss / 2 ** 20, 1),
        }
      : {}),
    loaderCpuUsPerUnit: count ? round(tally.loaderMicros / count, 1) : NaN,
    ...(count && Object.keys(tally.groupMicros).length
      ? {
          groupCpuUsPerUnit: Object.fromEntries(
            Object.entries(tally.groupMicros).map(([name, micros]) => [name, round(micros / count, 1)]),
          ),
        }
      : {}),
    loadAverage: loadAverage(),
  };
}

export const round = (n: number, digits: number) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;
