import fs from 'node:fs/promises';
import {
  BASELINE_POLICY,
  compilePolicy,
  evaluate,
  PolicyCompileError,
  type CompiledPolicy,
  type Decision,
  type EvaluationContext,
  type PolicyProblem,
  type ToolCall,
} from '../../libs/policy/src/index.js';
import { UsageError } from './usage-error.js';

/**
 * `agent-bom policy init | validate | test`: offline work on policy files with libs/policy alone (no Nest, no
 * database, no control plane), so an operator can write and try a policy before uploading it.
 *
 * Exit codes: `init` 0 written, 1 the file exists (use --force); `validate` 0 valid, 1 invalid, 2 usage;
 * `test` 0 allow, 1 deny, 3 warn, 2 usage (unreadable or invalid policy, bad --call or --context).
 */

/** `policy init [--out FILE] [--force]`: the baseline pack as a starting point. */
export async function policyInit(options: { out?: string; force?: boolean }): Promise<number> {
  const out = options.out ?? 'policy.json';
  const text = JSON.stringify(BASELINE_POLICY, null, 2) + '\n';
  if (out === '-') {
    process.stdout.write(text);
    return 0;
  }
  try {
    await fs.writeFile(out, text, { flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      process.stderr.write(`agent-bom policy init: ${out} exists; pass --force to overwrite it\n`);
      return 1;
    }
    throw new UsageError(`cannot write ${out}: ${(error as Error).message}`);
  }
  process.stderr.write(
    `wrote ${out}: the baseline pack (${BASELINE_POLICY.rules.length} rules). ` +
      `Edit it, then: agent-bom policy validate ${out}\n`,
  );
  return 0;
}

/** `policy validate FILE [--json]`: every problem, each with its rule id and field. */
export async function policyValidate(file: string, options: { json?: boolean }): Promise<number> {
  const text = await readPolicyFile(file);
  const result = check(text);
  if (options.json) {
    const report = result.ok
      ? { file, valid: true, rules: result.policy.document.rules.length }
      : { file, valid: false, problems: result.problems };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else if (result.ok) {
    const doc = result.policy.document;
    process.stdout.write(
      `${file}: valid, ${doc.rules.length} rule(s), default effect ${doc.default_effect ?? 'allow'}\n`,
    );
  } else {
    process.stdout.write(describeProblems(file, result.problems));
  }
  return result.ok ? 0 : 1;
}

/** `policy test FILE --call JSON [--context JSON] [--json]`: the decision a proxy or gateway would take. */
export async function policyTest(
  file: string,
  options: { call: string; context?: string; json?: boolean },
): Promise<number> {
  const call = parseCall(options.call);
  const context = options.context === undefined ? {} : parseContext(options.context);
  const result = check(await readPolicyFile(file));
  if (!result.ok) {
    process.stderr.write(describeProblems(file, result.problems));
    throw new UsageError(`${file} is not a valid policy: no decision`);
  }
  const decision = evaluate(result.policy, call, context);
  process.stdout.write(options.json ? JSON.stringify(decision, null, 2) + '\n' : describeDecision(decision));
  return decision.effect === 'allow' ? 0 : decision.effect === 'deny' ? 1 : 3;
}

type Checked = { ok: true; policy: CompiledPolicy } | { ok: false; problems: readonly PolicyProblem[] };

function check(text: string): Checked {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problems: [{ where: '(file)', message: `is not JSON: ${(error as Error).message}` }],
    };
  }
  try {
    return { ok: true, policy: compilePolicy(document) };
  } catch (error) {
    if (error instanceof PolicyCompileError) return { ok: false, problems: error.problems };
    throw error;
  }
}

async function readPolicyFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
}

/** `where` reads `rules[3] (id "no-shell"): tools[1]`: the rule and the field, as libs/policy names them. */
function describeProblems(file: string, problems: readonly PolicyProblem[]): string {
  const lines = problems.map((p) => `  ${p.where}: ${p.message}\n`);
  return `${file}: invalid, ${problems.length} problem(s)\n${lines.join('')}`;
}

function describeDecision(decision: Decision): string {
  const lines = [
    `${decision.effect}${decision.enforced ? '' : ' (audit only, not enforced)'}` +
      `${decision.rule_id ? ` by rule ${decision.rule_id}` : ' (default effect)'}`,
    `  reason: ${decision.reason}`,
    ...decision.matched.map((m) => `  matched: ${m.rule_id} (${m.effect}, ${m.mode})`),
    '  path:',
    ...decision.path.map((step) => `    ${step}`),
  ];
  return lines.join('\n') + '\n';
}

const CALL_FIELDS = ['method', 'tool', 'arguments'];
const CONTEXT_FIELDS = ['agent', 'client', 'environment', 'upstream'];

function parseCall(text: string): ToolCall {
  const value = parseObject(text, '--call', CALL_FIELDS);
  const method = value.method ?? 'tools/call';
  if (typeof method !== 'string' || method === '') throw new UsageError('--call: method must be a string');
  if (value.tool !== undefined && typeof value.tool !== 'string') {
    throw new UsageError('--call: tool must be a string');
  }
  if (method === 'tools/call' && value.tool === undefined) throw new UsageError('--call: tool is required');
  return { method, tool: value.tool as string | undefined, arguments: value.arguments };
}

function parseContext(text: string): EvaluationContext {
  const value = parseObject(text, '--context', CONTEXT_FIELDS);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new UsageError(`--context: ${key} must be a string`);
  }
  return value as EvaluationContext;
}

function parseObject(text: string, option: string, fields: string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${option} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${option} must be a JSON object`);
  }
  const unknown = Object.keys(value).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    throw new UsageError(`${option}: unknown field(s) ${unknown.join(', ')} (allowed: ${fields.join(', ')})`);
  }
  return value as Record<string, unknown>;
}
