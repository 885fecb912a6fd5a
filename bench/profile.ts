/**
 * `node dist/bench/profile.js DIR`: reads the V8 CPU profiles a gateway benchmark wrote into DIR
 * (`BENCH_CPU_PROF=DIR`, one `.cpuprofile` per process, and `candidates.json` naming each process and giving its
 * CPU per request from `/proc`) and prints, per candidate, where its CPU went, in µs per request: the share of the
 * process's busy samples in each group × its `/proc` CPU per request (one client count per run; with several,
 * the figures are shares in %).
 *
 * Each sample counts for the nearest frame up its stack that belongs to a script (ours or a package's), so Node's
 * internals and native code are counted with the caller that drove them (`→ node/native`); socket writes
 * (`writeUtf8String`, `writev`, … with no script of their own) are counted apart, as are GC and `(program)`.
 * The process's start-up (every sample before its first idle half second) is left out.
 *
 * With BENCH_HEAP_PROF=DIR instead (support/heap-sampling.ts), it prints the bytes each candidate allocated per
 * request, by the same groups: V8's sampling heap profiler's estimate, from the first request served to the exit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Written by the gateway benchmark beside the profiles: each process's candidate and `/proc` CPU per request. */
export interface ProfiledCandidates {
  pids: Record<string, number>;
  /** Per client count: the candidate's CPU µs per request from `/proc`. */
  cpuUsPerRequest: Record<string, Record<string, number>>;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** Script groups by URL, the first that matches. */
const GROUPS: Array<[RegExp, string]> = [
  [/node_modules\/(fastify|find-my-way|light-my-request|avvio|toad-cache|@fastify)\//, 'Fastify'],
  [/node_modules\/@nestjs\//, 'Nest'],
  [/node_modules\/undici\/|^wasm:/, 'undici'],
  [/node_modules\/(pino|thread-stream)/, 'pino'],
  [/node_modules\/(prom-client|tdigest|bintrees)\//, 'metrics (prom-client)'],
  [/libs\/detectors\/|relay\/response-scan|detector-steps/, 'detectors'],
  [/audit|call-outcome|fingerprint|canonical-json/, 'audit (event, outcome, fingerprint, push)'],
  [/libs\/policy\/|admission-policy|policy-source|policy-store/, 'policy'],
  [/jsonrpc|http\/body/, 'strict body read, JSON-RPC checks'],
  [/\/auth\//, 'auth'],
  [/bench\/gateway\/relay-checks/, 'relay + checks (its code)'],
  [/bench\/gateway\/relay\.js/, 'relay (its code)'],
  [/apps\/gateway\/|libs\//, 'gateway: routes, admission, sessions, trace, upstream'],
];

/** The group of a script by its URL, or undefined for Node's internals and native code. */
function groupOf(url: string): string | undefined {
  if (url === '' || url.startsWith('node:')) return undefined;
  for (const [pattern, group] of GROUPS) if (pattern.test(url)) return group;
  return path.basename(url);
}

const SOCKET_WRITES = /^(writeUtf8String|writeLatin1String|writeBuffer|writev)$/;

/** Busy samples per group after the start-up, and how many. */
export function groups(profile: CpuProfile): { busy: number; samples: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const idle = profile.nodes.find((node) => node.callFrame.functionName === '(idle)')?.id;
  let time = profile.startTime;
  const times = profile.timeDeltas.map((delta) => (time += delta));
  let start = 0;
  for (let i = 0, idleSince: number | undefined; i < profile.samples.length; i++) {
    if (profile.samples[i] !== idle) idleSince = undefined;
    else if (times[i] - (idleSince ??= times[i]) > 500_000) {
      start = i;
      break;
    }
  }
  const cache = new Map<number, string>();
  const groupOfSample = (id: number): string => {
    const own = nodes.get(id)!.callFrame;
    if (own.url === '' && SOCKET_WRITES.test(own.functionName)) return 'socket writes (native)';
    if (own.functionName === '(garbage collector)') return 'GC';
    if (own.functionName === '(program)') return '(program)';
    let group: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !group; at = parent.get(at))
      group = groupOf(nodes.get(at)!.callFrame.url);
    if (!group) return 'Node, no script caller (parser, ticks, timers)';
    return own.url === '' || own.url.startsWith('node:') ? `${group} → node/native` : group;
  };
  const samples = new Map<string, number>();
  let busy = 0;
  for (let i = start; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (id === idle) continue;
    busy++;
    let group = cache.get(id);
    if (group === undefined) cache.set(id, (group = groupOfSample(id)));
    samples.set(group, (samples.get(group) ?? 0) + 1);
  }
  return { busy, samples };
}

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per group (V8's scaled estimate): each node counted with its nearest script frame. */
export function heapGroups(head: HeapNode): Map<string, number> {
  const bytes = new Map<string, number>();
  const visit = (node: HeapNode, inherited: string) => {
    const group = groupOf(node.callFrame.url) ?? inherited;
    if (node.selfSize > 0) bytes.set(group, (bytes.get(group) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child, group);
  };
  visit(head, 'Node, no script caller (parser, ticks, timers)');
  return bytes;
}

type Column = { name: string; total: number; values: Map<string, number> };

function print(unit: string, columns: Column[], digits: number, totalLabel: string | undefined): void {
  const last = columns.at(-1)!;
  const rows = [...new Set(columns.flatMap((c) => [...c.values.keys()]))]
    .filter((group) => columns.some((c) => (c.values.get(group) ?? 0) >= 0.5))
    .sort((a, b) => (last.values.get(b) ?? 0) - (last.values.get(a) ?? 0));
  process.stdout.write(`| ${unit} | ${columns.map((c) => c.name).join(' | ')} |\n`);
  process.stdout.write(`| --- | ${columns.map(() => '---:').join(' | ')} |\n`);
  for (const group of rows)
    process.stdout.write(
      `| ${group} | ${columns.map((c) => (c.values.get(group) ?? 0).toFixed(digits)).join(' | ')} |\n`,
    );
  if (totalLabel)
    process.stdout.write(`| ${totalLabel} | ${columns.map((c) => c.total.toFixed(0)).join(' | ')} |\n`);
  process.stdout.write('\n');
}

function main(dir: string): void {
  const named = JSON.parse(fs.readFileSync(path.join(dir, 'candidates.json'), 'utf8')) as ProfiledCandidates;
  const levels = Object.keys(named.cpuUsPerRequest);
  const perRequest = levels.length === 1 ? named.cpuUsPerRequest[levels[0]] : undefined;
  const files = fs.readdirSync(dir);
  const cpu: Column[] = [];
  const heap: Column[] = [];
  for (const [name, pid] of Object.entries(named.pids)) {
    const cpuFile = files.find((f) => f.endsWith('.cpuprofile') && f.split('.')[3] === String(pid));
    if (cpuFile) {
      const read = JSON.parse(fs.readFileSync(path.join(dir, cpuFile), 'utf8')) as CpuProfile;
      const { busy, samples } = groups(read);
      const total = perRequest?.[name] ?? 100;
      cpu.push({ name, total, values: new Map([...samples].map(([g, n]) => [g, (n / busy) * total])) });
    }
    if (files.includes(`heap.${pid}.json`)) {
      const read = JSON.parse(fs.readFileSync(path.join(dir, `heap.${pid}.json`), 'utf8')) as {
        requests: number;
        profile: { head: HeapNode };
      };
      const bytes = heapGroups(read.profile.head);
      const values = new Map([...bytes].map(([g, b]) => [g, b / read.requests]));
      heap.push({ name, total: [...values.values()].reduce((a, b) => a + b, 0), values });
    }
  }
  if (cpu.length)
    print(
      perRequest ? `µs per request, c=${levels[0]}` : '% of busy samples',
      cpu,
      1,
      perRequest ? 'all (`/proc`)' : undefined,
    );
  if (heap.length) print('bytes allocated per request (sampled)', heap, 0, 'all');
}

// Run only as the entry point: the gateway benchmark imports this module for its types.
const isEntry = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
if (isEntry && process.argv[2]) main(process.argv[2]);
else if (isEntry) {
  process.stderr.write('usage: node dist/bench/profile.js DIR (the BENCH_CPU_PROF directory of a run)\n');
  process.exitCode = 2;
}
