import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ); 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in microseconds; undefined when /proc cannot tell. */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    return (ticks * 1e6) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process now, in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The machine's 1-minute load average, rounded to 2 decimals. */
export const loadAverage = (): number => Math.round(os.loadavg()[0] * 100) / 100;

/**
 * Watches the processes that do a candidate's work (the intermediary, never the load generator) while it is
 * measured: CPU from /proc/<pid>/stat at start and stop, RSS sampled every 100 ms for the peak.
 */
export class ProcessWatch {
  private readonly cpuAtStart: number[];
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: number[]) {
    this.cpuAtStart = pids.map((pid) => cpuMicros(pid) ?? NaN);
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const total = this.pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
    this.peak = Math.max(this.peak, total);
  }

  /** CPU used since start (µs, summed over the processes) and the peak summed RSS (bytes). */
  stop(): { cpuMicros: number; peakRssBytes: number } {
    clearInterval(this.timer);
    this.sample();
    const cpu = this.pids.reduce((sum, pid, i) => sum + ((cpuMicros(pid) ?? NaN) - this.cpuAtStart[i]), 0);
    return { cpuMicros: cpu, peakRssBytes: this.peak };
  }
}
