/**
 * Policy engine benchmark: a realistic 200-rule policy, a mix of typical MCP calls, and two evaluators
 * measured in the same run — the compiled engine (`compilePolicy` + `evaluate`) and a naive interpreter that
 * re-walks every rule on every call, compiling regexes and normalising names as it goes.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/policy/policy.bench.js
 *
 * Prints decisions/s and p50/p99 latency per decision for both, and their ratio. `run()` returns the figures.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { classesOfMethod, classesOfName } from '../../libs/policy/src/classify.js';
import { jsonEqual } from '../../libs/policy/src/json-value.js';
import { HostAllowList } from '../../libs/policy/src/egress.js';
import {
  compilePolicy,
  evaluate,
  normalizeName,
  type ArgumentCondition,
  type EvaluationContext,
  type PolicyDocument,
  type PolicyRule,
  type ToolCall,
} from '../../libs/policy/src/index.js';
import { inspectArguments } from '../../libs/policy/src/inspect.js';
import { parseJsonPath, selectPath } from '../../libs/policy/src/json-path.js';
import { globMatch, isGlob } from '../../libs/policy/src/patterns.js';
import { loadAverage } from '../support/proc.js';
import { ratio, type Measurement, type Role, type Scenario } from '../support/result.js';

// ---------------------------------------------------------------------------------------------------------
// Workload

const SERVERS = ['github', 'slack', 'jira', 'fs', 'postgres', 'browser', 'k8s', 'notion', 'stripe', 'aws'];
const VERBS = ['get', 'list', 'search', 'create', 'update', 'delete', 'read', 'write'];
const NOUNS = ['issue', 'file', 'message', 'page', 'record', 'pod', 'bucket', 'charge'];
const AGENTS = ['builder', 'reviewer', 'support-bot', 'ci-runner', 'analyst'];
const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const CLIENTS = ['claude-desktop', 'cursor', 'vscode'];

/** Deterministic pseudo-random numbers, so every run measures the same workload. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function toolNames(): string[] {
  const names: string[] = [];
  for (const server of SERVERS) {
    for (let i = 0; i < 6; i++)
      names.push(`${server}_${VERBS[(i * 3) % VERBS.length]}_${NOUNS[(i + server.length) % NOUNS.length]}`);
  }
  return [...new Set(names)];
}

/**
 * 200 rules in the proportions a real deployment shows: the baseline pack, then mostly per-tool allow/deny/warn
 * rules (some bound to agents and environments, some with argument limits), server-wide globs, a few regexes,
 * argument constraints scoped to the servers they concern, method rules, and environment-bound class rules.
 */
export function buildPolicy(): PolicyDocument {
  const random = rng(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const tools = toolNames();
  const rules: PolicyRule[] = [];
  const add = (rule: Omit<PolicyRule, 'id'>) => rules.push({ id: `rule-${rules.length}`, ...rule });

  // The baseline pack.
  add({ effect: 'deny', priority: 1000, secret_paths: true });
  add({ effect: 'deny', priority: 100, tool_classes: ['destructive'] });
  add({ effect: 'deny', priority: 100, tool_classes: ['execute'] });
  add({
    effect: 'deny',
    mode: 'audit',
    priority: 50,
    egress: {
      allow_hosts: ['github.com', 'slack.com', 'atlassian.net', 'notion.so', 'stripe.com', 'amazonaws.com'],
    },
  });
  // Per-tool rules.
  for (let i = 0; i < 110; i++) {
    const effect = i % 3 === 0 ? 'deny' : i % 3 === 1 ? 'allow' : 'warn';
    const rule: Omit<PolicyRule, 'id'> = {
      effect,
      priority: Math.floor(random() * 50),
      tools: [tools[i % tools.length]],
    };
    if (i % 4 === 0)
      add({ ...rule, bindings: { agents: [pick(AGENTS)], environments: [pick(ENVIRONMENTS)] } });
    else if (i % 5 === 0) add({ ...rule, arguments: [{ path: '$.limit', op: 'gt', value: 500 }] });
    else add(rule);
  }
  // Server-wide globs.
  for (const server of SERVERS) {
    add({ effect: 'deny', priority: 150, tools: [`${server}_delete_*`] });
    add({ effect: 'warn', tools: [`${server}_*_bucket`] });
    add({ effect: 'allow', priority: -10, tools: [`${server}_get_*`, `${server}_list_*`] });
  }
  for (let i = 0; i < 10; i++) add({ effect: 'deny', tools: [`/^${SERVERS[i]}_(?:admin|sudo)_[a-z]+$/`] });
  // Argument constraints, scoped to the servers whose tools take those arguments.
  const constraints: Array<[string, ArgumentCondition]> = [
    ['fs_*', { path: '$.path', op: 'regex', value: '/^\\/etc\\//' }],
    ['stripe_*', { path: '$.amount', op: 'between', value: [10_000, 1_000_000] }],
    ['k8s_*', { path: '$.options.force', op: 'equals', value: true }],
    ['github_*', { path: '$.visibility', op: 'in', value: ['public', 'internal'] }],
    ['postgres_*', { path: '$.query', op: 'contains', value: 'password' }],
  ];
  for (let i = 0; i < 20; i++) {
    const [glob, condition] = constraints[i % constraints.length];
    add({ effect: i % 3 ? 'deny' : 'warn', priority: i, tools: [glob], arguments: [condition] });
  }
  // Method rules for resources and prompts.
  for (let i = 0; i < 10; i++) {
    add({
      effect: i % 2 ? 'warn' : 'deny',
      methods: [i % 4 === 0 ? 'resources/*' : 'prompts/get'],
      bindings: { clients: [pick(CLIENTS)] },
    });
  }
  // Stricter classes in production.
  for (const tool_classes of [['database'], ['network'], ['write']] as const) {
    add({
      effect: 'deny',
      priority: 40,
      tool_classes: [...tool_classes],
      bindings: { environments: ['prod'], agents: [pick(AGENTS)] },
    });
  }
  // Broad allowances for trusted agents in development.
  while (rules.length < 200)
    add({ effect: 'allow', priority: -100, bindings: { agents: [pick(AGENTS)], environments: ['dev'] } });
  return { version: 1, default_effect: 'allow', rules };
}

/** Typical calls: small argument objects, a few paths and URLs, real-looking contexts. */
export function buildCalls(count: number): Array<{ call: ToolCall; context: EvaluationContext }> {
  const random = rng(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const tools = toolNames();
  const calls: Array<{ call: ToolCall; context: EvaluationContext }> = [];
  for (let i = 0; i < count; i++) {
    const tool = pick(tools);
    const args: Record<string, unknown> = { limit: Math.floor(random() * 1000) };
    if (tool.startsWith('fs_'))
      args.path = pick(['/workspace/src/index.ts', '/workspace/README.md', '/etc/hosts', 'docs/guide.md']);
    if (tool.startsWith('browser_'))
      args.url = pick([
        'https://github.com/org/repo',
        'https://docs.example.org/x',
        'https://api.slack.com/methods',
      ]);
    if (tool.startsWith('postgres_'))
      args.query = pick(['select * from orders where id = $1', 'select count(*) from users']);
    if (tool.startsWith('stripe_')) args.amount = Math.floor(random() * 50_000);
    if (tool.startsWith('github_'))
      Object.assign(args, { owner: 'acme', repo: 'platform', title: 'Fix flaky test' });
    const method = random() < 0.9 ? 'tools/call' : pick(['resources/read', 'prompts/get']);
    const call: ToolCall =
      method === 'tools/call'
        ? { method, tool, arguments: args }
        : { method, arguments: { uri: 'file:///workspace/notes.md' } };
    calls.push({
      call,
      context: { agent: pick(AGENTS), environment: pick(ENVIRONMENTS), client: pick(CLIENTS) },
    });
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------------------
// Naive interpreter: the same semantics, none of the preparation. Every call re-sorts the rules and, per rule,
// re-normalises names, rebuilds globs and regexes, re-parses JSONPaths and allow-lists, re-walks arguments.

const RANK = { deny: 0, allow: 1, warn: 2 } as const;
const CONTEXT_OF = {
  agents: 'agent',
  clients: 'client',
  environments: 'environment',
  upstreams: 'upstream',
} as const;

function naiveNameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('/')) {
    const literal = /^\/(.+)\/([a-z]*)$/s.exec(pattern) as RegExpExecArray;
    return new RegExp(literal[1], `${literal[2]}i`).test(name);
  }
  const key = normalizeName(pattern).key;
  return isGlob(key) ? globMatch(key, name) : key === name;
}

function naiveCondition(condition: ArgumentCondition, args: unknown): boolean {
  const values = selectPath(args, parseJsonPath(condition.path)).values;
  const value = condition.value as never;
  const number = (v: unknown) =>
    typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (condition.op === 'exists') return values.length > 0 === (value as boolean);
  return values.some((v) => {
    switch (condition.op) {
      case 'equals':
        return jsonEqual(v, value);
      case 'in':
        return (value as unknown[]).some((candidate) => jsonEqual(v, candidate));
      case 'contains':
        return typeof v === 'string'
          ? v.includes(value)
          : Array.isArray(v) && v.some((e) => jsonEqual(e, value));
      case 'regex': {
        const literal = /^\/(.+)\/([a-z]*)$/s.exec(value) as RegExpExecArray;
        return typeof v === 'string' && new RegExp(literal[1], literal[2]).test(v);
      }
      case 'gt':
        return number(v) > value;
      case 'gte':
        return number(v) >= value;
      case 'lt':
        return number(v) < value;
      case 'lte':
        return number(v) <= value;
      case 'between':
        return number(v) >= (value as number[])[0] && number(v) <= (value as number[])[1];
    }
    return false;
  });
}

function naiveMatches(rule: PolicyRule, call: ToolCall, context: EvaluationContext): boolean {
  if (rule.methods && !rule.methods.some((m) => (isGlob(m) ? globMatch(m, call.method) : m === call.method)))
    return false;
  if (rule.tools) {
    if (call.tool === undefined) return false;
    const name = normalizeName(call.tool);
    if (name.disguised && rule.effect === 'allow') return false;
    if (!rule.tools.some((pattern) => naiveNameMatches(pattern, name.key))) return false;
  }
  if (rule.bindings) {
    for (const [dimension, patterns] of Object.entries(rule.bindings) as Array<
      [keyof typeof CONTEXT_OF, string[]]
    >) {
      const raw = context[CONTEXT_OF[dimension]];
      if (raw === undefined) return false;
      const name = normalizeName(raw);
      if (!patterns.some((p) => naiveNameMatches(p, name.key))) return false;
    }
  }
  const args = call.arguments ?? {};
  const facts = () => inspectArguments(args, false);
  if (rule.tool_classes) {
    const bits = (call.tool ? classesOfName(call.tool) : 0) | classesOfMethod(call.method) | facts().classes;
    const wanted = rule.tool_classes.reduce(
      (acc, c) =>
        acc |
        (1 << ['read', 'write', 'execute', 'network', 'filesystem', 'database', 'destructive'].indexOf(c)),
      0,
    );
    if ((bits & wanted) === 0) return false;
  }
  if (rule.arguments && !rule.arguments.every((c) => naiveCondition(c, args))) return false;
  if (rule.secret_paths && facts().secret === null) return false;
  if (rule.egress) {
    const allowList = new HostAllowList(rule.egress.allow_hosts);
    if (!facts().egress.some((target) => !allowList.allows(target.host))) return false;
  }
  return true;
}

export function naiveEvaluate(
  document: PolicyDocument,
  call: ToolCall,
  context: EvaluationContext,
): { effect: string; rule_id: string | null } {
  const ordered = document.rules
    .map((rule, order) => ({ rule, order }))
    .sort(
      (a, b) =>
        (b.rule.priority ?? 0) - (a.rule.priority ?? 0) ||
        RANK[a.rule.effect] - RANK[b.rule.effect] ||
        a.order - b.order,
    )
    .map(({ rule }) => rule);
  let winner: PolicyRule | undefined;
  let audit: PolicyRule | undefined;
  for (const rule of ordered) {
    if (!naiveMatches(rule, call, context)) continue;
    if ((rule.mode ?? 'enforce') === 'enforce') winner ??= rule;
    else if (rule.effect !== 'allow') audit ??= rule;
  }
  if (winner?.effect === 'deny') return { effect: 'deny', rule_id: winner.id };
  if (!winner && document.default_effect === 'deny') return { effect: 'deny', rule_id: null };
  if (winner?.effect === 'warn') return { effect: 'warn', rule_id: winner.id };
  if (audit) return { effect: 'warn', rule_id: audit.id };
  return { effect: 'allow', rule_id: winner?.id ?? null };
}

// ---------------------------------------------------------------------------------------------------------
// Measurement

export interface EngineFigures {
  readonly decisions: number;
  /** Median of five timed rounds, wall clock. */
  readonly decisionsPerSecond: number;
  /**
   * Median of the same rounds per second of CPU time used by the process (all its threads, GC included): the
   * single-core figure, unaffected by other processes competing for the CPU.
   */
  readonly decisionsPerCpuSecond: number;
  readonly p50Nanoseconds: number;
  readonly p99Nanoseconds: number;
}

export interface BenchFigures {
  readonly rules: number;
  readonly distinctCalls: number;
  readonly compiled: EngineFigures;
  readonly naive: EngineFigures;
  /**
   * The limit line: a hand-written matcher that knows the answer already — one Map lookup per call of the
   * decision precomputed for its (method, tool, arguments, context) — the least a decision can cost.
   */
  readonly lookup: EngineFigures;
  /** compiled ÷ naive, CPU-time rates */
  readonly speedup: number;
  /** Calls where both evaluators gave the same effect and rule id. */
  readonly agreement: number;
  /** Cost of one `process.hrtime.bigint()` pair, included in the percentiles. */
  readonly timerOverheadNanoseconds: number;
}

/**
 * Throughput in five rounds after a warm-up (the median round is reported: robust to a noisy neighbour on a
 * shared machine), then latency from individually timed decisions.
 */
function measure(decide: (i: number) => unknown, throughputRuns: number, latencyRuns: number): EngineFigures {
  for (let i = 0; i < Math.min(throughputRuns, 300_000); i++) decide(i); // warm-up: JIT and memos
  const rounds = 5;
  const perRound = Math.ceil(throughputRuns / rounds);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) decide(round * perRound + i);
    rates.push(perRound / (Number(process.hrtime.bigint() - started) / 1e9));
    const used = process.cpuUsage(cpu);
    cpuRates.push(perRound / ((used.user + used.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  const samples = new Float64Array(latencyRuns);
  for (let i = 0; i < latencyRuns; i++) {
    const t0 = process.hrtime.bigint();
    decide(i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  samples.sort();
  return {
    decisions: perRound * rounds,
    decisionsPerSecond: Math.round(rates[rounds >> 1]),
    decisionsPerCpuSecond: Math.round(cpuRates[rounds >> 1]),
    p50Nanoseconds: samples[Math.floor(latencyRuns * 0.5)],
    p99Nanoseconds: samples[Math.floor(latencyRuns * 0.99)],
  };
}

function timerOverhead(): number {
  const samples = new Float64Array(100_000);
  for (let i = 0; i < samples.length; i++) {
    const t0 = process.hrtime.bigint();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return samples.sort()[samples.length >> 1];
}

/** Runs the benchmark and returns its figures. `scale` shrinks the run (e.g. 0.01 for a smoke test). */
export function run(scale = 1): BenchFigures {
  const document = buildPolicy();
  const policy = compilePolicy(document);
  const calls = buildCalls(10_000);
  let agreement = 0;
  for (const { call, context } of calls) {
    const fast = evaluate(policy, call, context);
    const slow = naiveEvaluate(document, call, context);
    if (fast.effect === slow.effect && fast.rule_id === slow.rule_id) agreement++;
  }
  const n = calls.length;
  let sink = 0;
  const compiled = measure(
    (i) => {
      const { call, context } = calls[i % n];
      sink += evaluate(policy, call, context).matched.length;
    },
    Math.max(1_000, Math.round(3_000_000 * scale)),
    Math.max(1_000, Math.round(300_000 * scale)),
  );
  const naive = measure(
    (i) => {
      const { call, context } = calls[i % n];
      sink += naiveEvaluate(document, call, context).effect.length;
    },
    Math.max(200, Math.round(30_000 * scale)),
    Math.max(200, Math.round(10_000 * scale)),
  );
  const table = new Map<string, string>();
  const keyOf = ({ call, context }: (typeof calls)[number]) =>
    `${call.method}\u0000${call.tool}\u0000${context.agent}\u0000${context.environment}\u0000${context.client}\u0000${context.upstream}`;
  const keys = calls.map(keyOf);
  for (let i = 0; i < n; i++) table.set(keys[i], evaluate(policy, calls[i].call, calls[i].context).effect);
  const lookup = measure(
    (i) => {
      const { call, context } = calls[i % n];
      sink += table.get(
        `${call.method}\u0000${call.tool}\u0000${context.agent}\u0000${context.environment}\u0000${context.client}\u0000${context.upstream}`,
      )!.length;
    },
    Math.max(1_000, Math.round(3_000_000 * scale)),
    Math.max(1_000, Math.round(300_000 * scale)),
  );
  if (sink === -1) console.error('unreachable');
  return {
    rules: document.rules.length,
    distinctCalls: n,
    compiled,
    naive,
    lookup,
    speedup: Math.round((compiled.decisionsPerCpuSecond / naive.decisionsPerCpuSecond) * 10) / 10,
    agreement: agreement / n,
    timerOverheadNanoseconds: timerOverhead(),
  };
}

/** The figures in the suite's shape (bench/support/result.ts). */
export function scenarios(f: BenchFigures): Scenario[] {
  const row = (name: string, role: Role, e: EngineFigures): Measurement => ({
    name,
    role,
    count: e.decisions,
    seconds: e.decisions / e.decisionsPerSecond,
    perSecond: e.decisionsPerSecond,
    p50Ms: e.p50Nanoseconds / 1e6,
    p90Ms: NaN,
    p99Ms: e.p99Nanoseconds / 1e6,
    errors: 0,
    cpuUsPerUnit: Math.round((1e6 / e.decisionsPerCpuSecond) * 1000) / 1000,
    loadAverage: loadAverage(),
  });
  const measurements = [
    row('compiled engine', 'system', f.compiled),
    row('precomputed lookup', 'limit', f.lookup),
    row('naive interpreter', 'reference', f.naive),
  ];
  return [
    {
      benchmark: 'policy',
      name: `decisions, ${f.rules} rules, ${f.distinctCalls} distinct calls`,
      unit: 'decision',
      concurrency: 1,
      measurements,
      ratios: [
        ratio(
          measurements,
          'policy.compiled_vs_lookup',
          'compiled engine / precomputed lookup (CPU)',
          'precomputed lookup',
          'compiled engine',
          'cpuUsPerUnit',
          'higher',
        ),
        ratio(
          measurements,
          'policy.compiled_vs_naive',
          'compiled engine speed-up over the naive interpreter (CPU)',
          'naive interpreter',
          'compiled engine',
          'cpuUsPerUnit',
          'higher',
        ),
      ],
      notes: [
        `decisions agree with the naive interpreter on ${(f.agreement * 100).toFixed(2)}% of calls; percentiles include ~${f.timerOverheadNanoseconds} ns of timer overhead; rates are medians of 5 rounds`,
      ],
    },
  ];
}

/** The figures as printed by `npm run bench -- policy`. */
export function report(figures: BenchFigures): string {
  const rate = (n: number) => n.toLocaleString('en-US').padStart(11);
  const micros = (n: number) => (n / 1000).toFixed(2).padStart(7);
  const line = (name: string, f: EngineFigures) =>
    `${name.padEnd(9)}${rate(f.decisionsPerSecond)} decisions/s (${rate(f.decisionsPerCpuSecond)} per CPU-second)` +
    `   p50 ${micros(f.p50Nanoseconds)} µs   p99 ${micros(f.p99Nanoseconds)} µs`;
  return [
    `policy engine: ${figures.rules} rules, ${figures.distinctCalls} distinct typical calls, node ${process.version}`,
    line('compiled', figures.compiled),
    line('naive', figures.naive),
    `speed-up ${figures.speedup}x; decisions agree on ${(figures.agreement * 100).toFixed(2)}% of calls`,
    `(median of 5 rounds; percentiles include ~${figures.timerOverheadNanoseconds} ns of timer overhead; ` +
      `load average ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} CPUs)`,
  ].join('\n');
}

function main(): void {
  const figures = run();
  console.log(report(figures));
  console.log(JSON.stringify(figures));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
