import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ); 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in microseconds; undefined when /proc cannot tell. */
export function cpuMicros(pid: number): number | undefined {
  const used = cpuTimes(pid);
  return used && used.user + used.system;
}

/** CPU time a process has used so far in user space and in the kernel (system calls), in microseconds. */
export function cpuTimes(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime: fields 14 and 15 of stat
    return {
      user: (Number(fields[11]) * 1e6) / TICKS_PER_SECOND,
      system: (Number(fields[12]) * 1e6) / TICKS_PER_SECOND,
    };
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
  private readonly cpuAtStart: Array<{ user: number; system: number }>;
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: number[]) {
    this.cpuAtStart = pids.map((pid) => cpuTimes(pid) ?? { user: NaN, system: NaN });
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const total = this.pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
    this.peak = Math.max(this.peak, total);
  }

  /** CPU used since start (µs, summed over the processes; of it in the kernel) and the peak summed RSS (bytes). */
  stop(): { cpuMicros: number; systemMicros: number; peakRssBytes: number } {
    clearInterval(this.timer);
    this.sample();
    let user = 0;
    let system = 0;
    this.pids.forEach((pid, i) => {
      const now = cpuTimes(pid) ?? { user: NaN, system: NaN };
      user += now.user - this.cpuAtStart[i].user;
      system += now.system - this.cpuAtStart[i].system;
    });
    return { cpuMicros: user + system, systemMicros: system, peakRssBytes: this.peak };
  }
}

/**
 * CPU of a set of processes that may change while it is watched (PostgreSQL's backends come and go): `resolve`
 * names the processes at start and at stop; a process seen only at stop started in between and counts from zero,
 * one gone by stop counts nothing (its last figures cannot be read).
 */
export class GroupWatch {
  private readonly atStart = new Map<number, number>();

  constructor(private readonly resolve: () => number[]) {
    for (const pid of resolve()) {
      const cpu = cpuMicros(pid);
      if (cpu !== undefined) this.atStart.set(pid, cpu);
    }
  }

  /** CPU used since start (µs, summed over the processes). */
  stop(): number {
    let sum = 0;
    for (const pid of this.resolve()) {
      const cpu = cpuMicros(pid);
      if (cpu !== undefined) sum += cpu - (this.atStart.get(pid) ?? 0);
    }
    return sum;
  }
}

/** PostgreSQL's own background processes, by their process title (`postgres: [cluster: ]checkpointer`). */
const PG_BACKGROUND =
  /: (?:checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|stats collector|archiver|startup|walreceiver|walsender)\b/;

/**
 * The PostgreSQL processes doing one database's work: the backends and autovacuum workers whose process title
 * names `database` (`postgres: [cluster: ]user database host(port) state`, `autovacuum worker database`), and the
 * server(s) that run those backends with their background processes (WAL writer, checkpointer, background
 * writer…), found from /proc by their `comm` (`postgres`) and parent. On a server shared with other databases the
 * background processes also work for those (their WAL, their checkpoints); other databases' backends are left
 * out. Empty when /proc cannot tell (not Linux).
 */
export function postgresPids(database: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const servers = new Set<number>();
  const ours: number[] = [];
  const background: Array<{ pid: number; parent: number }> = [];
  for (const entry of entries) {
    const pid = Number(entry);
    let title: string;
    let parent: number;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
      parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    } catch {
      continue; // gone meanwhile
    }
    if (title.split(' ').includes(database)) {
      ours.push(pid);
      servers.add(parent);
    } else if (PG_BACKGROUND.test(title)) background.push({ pid, parent });
  }
  return [...ours, ...servers, ...background.filter((b) => servers.has(b.parent)).map((b) => b.pid)];
}
