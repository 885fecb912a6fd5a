import {
  compilePolicy,
  LIMITS,
  PolicyCompileError,
  type PolicyDocument,
  type PolicyProblem,
  type PolicyRule,
  type RuleBindings,
} from '../../../libs/policy/src/index.js';

/**
 * The tenant's effective policy: one libs/policy document merging every enabled policy, which is what bundles
 * carry and dry runs evaluate. Pure functions, no I/O.
 *
 * Merge rules (docs/policy.md "Effective policy"):
 * - each rule keeps its effect, priority, mode and matchers, and is renamed `<policy name>/<rule id>`: unique
 *   because live policy names are unique and contain no `/`, and it says in every decision which policy decided;
 * - policy-level `bindings` are added to each of the policy's rules (a rule may not bind a dimension its policy
 *   already binds: the intersection of two glob lists has no glob form, so that is refused at write time);
 * - `default_effect` — most restrictive wins: `deny` if any enabled policy without bindings says `deny`. A bound
 *   policy's `deny` default cannot be global, so it becomes a catch-all deny rule `<policy name>:default` at the
 *   lowest priority, bound like the policy (its id has no `/`, so it never collides with a renamed rule);
 * - precedence between rules of different policies is libs/policy's: priority, then deny > allow > warn, then
 *   order (policies by name, rules in document order).
 */
export interface MergeInput {
  name: string;
  document: PolicyDocument;
  bindings: RuleBindings | null;
}

/** The document a tenant with no enabled policy gets (`default_effect` allow, no rules). */
export const EMPTY_POLICY: PolicyDocument = Object.freeze({ version: 1, rules: Object.freeze([]) });

/** Merges policies (already ordered by name) into the effective document. */
export function effectivePolicy(policies: readonly MergeInput[]): PolicyDocument {
  const rules: PolicyRule[] = [];
  let defaultDeny = false;
  for (const policy of policies) {
    rules.push(...contributedRules(policy));
    if (policy.document.default_effect === 'deny' && !policy.bindings) defaultDeny = true;
  }
  return defaultDeny ? { version: 1, default_effect: 'deny', rules } : { version: 1, rules };
}

/** The rules one policy adds to the effective policy, renamed and bound. */
function contributedRules({ name, document, bindings }: MergeInput): PolicyRule[] {
  const rules: PolicyRule[] = document.rules.map((rule) => {
    const merged = bindings ? { ...rule.bindings, ...bindings } : rule.bindings;
    return { ...rule, id: `${name}/${rule.id}`, ...(merged ? { bindings: merged } : {}) };
  });
  if (document.default_effect === 'deny' && bindings) {
    rules.push({
      id: `${name}:default`,
      description: `default effect of policy ${name} (bound)`,
      effect: 'deny',
      priority: -LIMITS.maxPriority,
      bindings,
    });
  }
  return rules;
}

/**
 * Everything wrong with a policy as the API receives it, each problem naming its rule and field: the document
 * must compile, the bindings must be valid libs/policy bindings, and the policy must be able to join the
 * effective policy (renamed rule ids within the id length, no dimension bound twice).
 */
export function policyProblems(name: string, document: unknown, bindings: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [
    ...unstorableText(document, 'document'),
    ...unstorableText(bindings, 'bindings'),
  ];
  if (problems.length > 0) return problems;
  let compiled = true;
  try {
    compilePolicy(document);
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    problems.push(...error.problems.map((p) => ({ ...p, where: `document.${p.where}` })));
    compiled = false;
  }
  if (bindings !== undefined && bindings !== null) problems.push(...bindingsProblems(bindings));
  if (!compiled) return problems;

  const bound = isObject(bindings) ? Object.keys(bindings) : [];
  (document as PolicyDocument).rules.forEach((rule, i) => {
    const prefix = `document.rules[${i}] (id ${JSON.stringify(rule.id)})`;
    const renamed = `${name}/${rule.id}`;
    if (renamed.length > LIMITS.maxRuleIdLength) {
      problems.push({
        where: `${prefix}: id`,
        rule_id: rule.id,
        message: `becomes "${name}/…" in the effective policy, ${renamed.length} characters, more than ${LIMITS.maxRuleIdLength}`,
      });
    }
    for (const dimension of bound) {
      if (rule.bindings && dimension in rule.bindings) {
        problems.push({
          where: `${prefix}: bindings.${dimension}`,
          rule_id: rule.id,
          message: `the policy already binds ${dimension}; a rule of a bound policy may bind other dimensions only`,
        });
      }
    }
  });
  return problems;
}

/** Validates policy-level bindings exactly as libs/policy validates a rule's. */
function bindingsProblems(bindings: unknown): PolicyProblem[] {
  try {
    compilePolicy({ version: 1, rules: [{ id: 'bindings', effect: 'allow', bindings }] });
    return [];
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    const probe = 'rules[0] (id "bindings"): ';
    return error.problems.map((p) => ({
      where: p.where.startsWith(probe) ? p.where.slice(probe.length) : 'bindings',
      message: p.message,
    }));
  }
}

/**
 * A problem's location as a dotted field path, the house style of `details[].field`:
 * `document.rules[3] (id "no-shell"): tools[1]` → `document.rules.3.tools.1`.
 */
export function fieldOf(problem: PolicyProblem): string {
  let where = problem.where;
  if (problem.rule_id !== undefined) where = where.replace(` (id ${JSON.stringify(problem.rule_id)})`, '');
  where = where.replace(/^document\.\(document\)$/, 'document').replace(': ', '.');
  return where.replace(/\[(\d+)\]/g, '.$1');
}

/**
 * A lone UTF-16 surrogate survives JSON parsing but not PostgreSQL's json input (nor any UTF-8 consumer): refuse it
 * with its location rather than fail at the INSERT. (NUL is refused by the body parser already.)
 */
function unstorableText(value: unknown, where: string): PolicyProblem[] {
  const stack: Array<[unknown, string]> = [[value, where]];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) return [{ where: at, message: 'contains a lone UTF-16 surrogate' }];
    } else if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push([child, `${at}[${i}]`]));
    } else if (isObject(node)) {
      for (const [key, child] of Object.entries(node)) {
        if (LONE_SURROGATE.test(key))
          return [{ where: at, message: 'has a key with a lone UTF-16 surrogate' }];
        stack.push([child, `${at}.${key}`]);
      }
    }
  }
  return [];
}

const LONE_SURROGATE = /\p{Cs}/u;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
