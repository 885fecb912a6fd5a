import { CLASS_BIT } from './classify.js';
import { compileCondition, type CompiledCondition } from './conditions.js';
import { HostAllowList } from './egress.js';
import { LIMITS } from './limits.js';
import { nameKey } from './normalize.js';
import { NameMatcher, compileRegexLiteral, globMatch, isGlob, isRegexLiteral } from './patterns.js';
import {
  BINDING_DIMENSIONS,
  TOOL_CLASSES,
  type ArgumentCondition,
  type BindingDimension,
  type EgressMatcher,
  type EvaluationContext,
  type PolicyRule,
  type RuleBindings,
} from './types.js';

/*
 * Validation and compilation of each matcher of a rule. Every function reports problems as (field, message)
 * and returns null (or 0) when there was one, so nothing invalid is ever half-compiled.
 */

/** Every field of a rule. Typed as a record so adding a field to `PolicyRule` without listing it here fails to compile. */
const RULE_FIELD_SET: Record<keyof PolicyRule, true> = {
  id: true,
  description: true,
  effect: true,
  priority: true,
  mode: true,
  methods: true,
  tools: true,
  arguments: true,
  tool_classes: true,
  secret_paths: true,
  egress: true,
  bindings: true,
};
export const RULE_FIELDS = Object.keys(RULE_FIELD_SET) as ReadonlyArray<keyof PolicyRule>;
const CONDITION_FIELD_SET: Record<keyof ArgumentCondition, true> = { path: true, op: true, value: true };
export const CONDITION_FIELDS = Object.keys(CONDITION_FIELD_SET) as ReadonlyArray<keyof ArgumentCondition>;
const EGRESS_FIELD_SET: Record<keyof EgressMatcher, true> = { allow_hosts: true };
export const EGRESS_FIELDS = Object.keys(EGRESS_FIELD_SET) as ReadonlyArray<keyof EgressMatcher>;
export const BINDING_FIELDS: ReadonlyArray<keyof RuleBindings> = BINDING_DIMENSIONS;

/** The context property each binding dimension reads. */
export const CONTEXT_KEY: Readonly<Record<BindingDimension, keyof EvaluationContext>> = {
  agents: 'agent',
  clients: 'client',
  environments: 'environment',
  upstreams: 'upstream',
};

export const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** Tool-name patterns in normalised form: exact keys, globs, and regexes run against the key. */
export class ToolMatcher {
  constructor(
    private readonly exact: ReadonlySet<string>,
    private readonly globs: readonly string[],
    private readonly regexes: readonly RegExp[],
  ) {}

  matches(key: string): boolean {
    if (this.exact.has(key)) return true;
    for (const glob of this.globs) if (globMatch(glob, key)) return true;
    for (const regex of this.regexes) if (regex.test(key)) return true;
    return false;
  }
}

/** One binding dimension, its patterns normalised like names. */
export interface CompiledBinding {
  readonly dimension: BindingDimension;
  readonly context: keyof EvaluationContext;
  readonly matcher: NameMatcher;
  /** Trace line when this dimension does not match. */
  readonly skipped: string;
}

export type Report = (field: string, message: string) => void;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reports every key of `value` not in `allowed`. */
export function reportUnknownFields(
  value: Record<string, unknown>,
  allowed: readonly string[],
  report: Report,
  where: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) report(where, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

/** Validates a non-empty list of non-empty strings, reporting per entry; returns the valid entries. */
export function stringList(value: unknown, field: string, report: Report): string[] | null {
  if (!Array.isArray(value)) {
    report(field, 'must be an array of strings');
    return null;
  }
  if (value.length === 0) {
    report(field, 'must not be empty (omit the field to match everything)');
    return null;
  }
  if (value.length > LIMITS.maxListEntries) {
    report(field, `has ${value.length} entries, more than the limit of ${LIMITS.maxListEntries}`);
    return null;
  }
  const valid: string[] = [];
  value.forEach((entry, i) => {
    if (typeof entry !== 'string' || entry.trim() === '')
      report(`${field}[${i}]`, 'must be a non-empty string');
    else if (entry.length > LIMITS.maxPatternLength) {
      report(
        `${field}[${i}]`,
        `pattern is ${entry.length} characters, more than the limit of ${LIMITS.maxPatternLength}`,
      );
    } else valid.push(entry);
  });
  return valid.length === value.length ? valid : null;
}

/** A name pattern (tool glob/exact, binding) normalised like inputs; reports names that normalise to nothing. */
function normalisedPattern(pattern: string, field: string, report: Report): string | null {
  const key = nameKey(pattern);
  if (key === '') {
    report(field, `"${pattern}" normalises to an empty name`);
    return null;
  }
  return key;
}

export function compileTools(value: unknown, report: Report): ToolMatcher | null {
  const list = stringList(value, 'tools', report);
  if (!list) return null;
  const exact = new Set<string>();
  const globs: string[] = [];
  const regexes: RegExp[] = [];
  let ok = true;
  list.forEach((pattern, i) => {
    const field = `tools[${i}]`;
    if (isRegexLiteral(pattern)) {
      // Regexes see the normalised, lower-case name; `i` keeps upper-case letters in the source meaningful.
      const regex = compileRegexLiteral(pattern, 'i');
      if (typeof regex === 'string') {
        report(field, regex);
        ok = false;
      } else regexes.push(regex);
      return;
    }
    const key = normalisedPattern(pattern, field, report);
    if (key === null) ok = false;
    else if (isGlob(key)) globs.push(key);
    else exact.add(key);
  });
  return ok ? new ToolMatcher(exact, globs, regexes) : null;
}

export function compileConditions(value: unknown, report: Report): CompiledCondition[] | null {
  if (!Array.isArray(value) || value.length === 0) {
    report('arguments', 'must be a non-empty array of { path, op, value }');
    return null;
  }
  if (value.length > LIMITS.maxListEntries) {
    report('arguments', `has ${value.length} entries, more than the limit of ${LIMITS.maxListEntries}`);
    return null;
  }
  const compiled: CompiledCondition[] = [];
  value.forEach((entry, i) => {
    const field = `arguments[${i}]`;
    if (!isPlainObject(entry)) return report(field, 'must be an object { path, op, value }');
    reportUnknownFields(entry, CONDITION_FIELDS, report, field);
    const result = compileCondition(entry.path, entry.op, entry.value);
    if (Array.isArray(result)) for (const [sub, message] of result) report(`${field}.${sub}`, message);
    else compiled.push(result);
  });
  return compiled.length === value.length ? compiled : null;
}

export function compileClasses(value: unknown, report: Report): number {
  if (!Array.isArray(value) || value.length === 0) {
    report('tool_classes', `must be a non-empty array of ${TOOL_CLASSES.join(', ')}`);
    return 0;
  }
  let bits = 0;
  value.forEach((entry, i) => {
    if ((TOOL_CLASSES as readonly unknown[]).includes(entry))
      bits |= CLASS_BIT[entry as (typeof TOOL_CLASSES)[number]];
    else
      report(
        `tool_classes[${i}]`,
        `unknown class ${JSON.stringify(entry)} (known: ${TOOL_CLASSES.join(', ')})`,
      );
  });
  return bits;
}

export function compileEgress(value: unknown, report: Report): HostAllowList | null {
  if (!isPlainObject(value)) {
    report('egress', 'must be an object { allow_hosts: [...] }');
    return null;
  }
  reportUnknownFields(value, EGRESS_FIELDS, report, 'egress');
  const hosts = value.allow_hosts;
  if (!Array.isArray(hosts)) {
    report(
      'egress.allow_hosts',
      'is required: an array of host names (may be empty: then every host is unknown)',
    );
    return null;
  }
  if (hosts.length > LIMITS.maxListEntries) {
    report(
      'egress.allow_hosts',
      `has ${hosts.length} entries, more than the limit of ${LIMITS.maxListEntries}`,
    );
    return null;
  }
  let ok = true;
  hosts.forEach((host, i) => {
    const problem =
      typeof host !== 'string' || host === ''
        ? 'must be a non-empty string'
        : host.length > LIMITS.maxPatternLength
          ? `longer than ${LIMITS.maxPatternLength} characters`
          : hostProblem(host);
    if (problem) {
      report(`egress.allow_hosts[${i}]`, problem);
      ok = false;
    }
  });
  return ok ? new HostAllowList(hosts as string[]) : null;
}

function hostProblem(host: string): string | undefined {
  try {
    new HostAllowList([host]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function compileBindings(value: unknown, report: Report, label: string): CompiledBinding[] | null {
  if (!isPlainObject(value)) {
    report('bindings', `must be an object with any of ${BINDING_DIMENSIONS.join(', ')}`);
    return null;
  }
  reportUnknownFields(value, BINDING_FIELDS, report, 'bindings');
  const present = BINDING_DIMENSIONS.filter((dimension) => value[dimension] !== undefined);
  if (present.length === 0) {
    report(
      'bindings',
      `must bind at least one of ${BINDING_DIMENSIONS.join(', ')} (omit the field to apply everywhere)`,
    );
    return null;
  }
  const compiled: CompiledBinding[] = [];
  for (const dimension of present) {
    const field = `bindings.${dimension}`;
    const list = stringList(value[dimension], field, report);
    if (!list) continue;
    const keys = list.map((pattern, i) => normalisedPattern(pattern, `${field}[${i}]`, report));
    if (keys.some((key) => key === null)) continue;
    const context = CONTEXT_KEY[dimension];
    compiled.push({
      dimension,
      context,
      matcher: new NameMatcher(keys as string[]),
      skipped: `${label}: skipped, ${context} does not match bindings.${dimension} ${JSON.stringify(list)}`,
    });
  }
  return compiled.length === present.length ? compiled : null;
}
