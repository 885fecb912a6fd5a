import { percentile } from './control-plane.js';
import { loadAverage } from './proc.js';
import type { Measurement, Role } from './result.js';

/** A measurement from per-unit durations (ms) and the wall time they took (s). */
export function fromDurations(name: string, role: Role, durations: number[], seconds: number): Measurement {
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return {
    name,
    role,
    count: durations.length,
    seconds: r(seconds),
    perSecond: r(durations.length / seconds),
    p50Ms: durations.length ? r(percentile(durations, 50)) : NaN,
    p90Ms: durations.length ? r(percentile(durations, 90)) : NaN,
    p99Ms: durations.length ? r(percentile(durations, 99)) : NaN,
    errors: 0,
    loadAverage: loadAverage(),
  };
}
