import { CLASS_BIT } from './classify.js';
import type { CompiledRule } from './compile-rule.js';
import type { CompiledPolicy } from './compile.js';
import { inspectArguments, locate, type ArgumentFacts, type EgressFinding } from './inspect.js';
import { LIMITS } from './limits.js';
import type { Decision, Effect, EvaluationContext, MatchedRule, ToolCall } from './types.js';

const EMPTY_ARGUMENTS = Object.freeze({});
const NO_CONTEXT: EvaluationContext = Object.freeze({});
/** Tools whose name says they run code or queries have every argument string read, multi-line or not. */
const READ_EVERYTHING = CLASS_BIT.execute | CLASS_BIT.database;
const DECIDED = { allow: 'decision: allow', deny: 'decision: deny', warn: 'decision: warn' } as const;
const DECIDED_BY_AUDIT = 'decision: warn (audit, not enforced)';

const SEVERITY: Readonly<Record<Effect, number>> = { allow: 0, warn: 1, deny: 2 };

/**
 * Decides one call under several policies in force at once (a local file and a control-plane bundle): every one
 * is evaluated and the most severe answer wins (deny, then warn, then allow), the earlier policy on a tie, so a
 * deny from any policy denies. Undefined when no policy is given. The proxy and the gateway both decide this way.
 */
export function evaluateAll<P>(
  policies: readonly P[],
  compiledOf: (policy: P) => CompiledPolicy,
  call: ToolCall,
  context: EvaluationContext = NO_CONTEXT,
): { decision: Decision; policy: P } | undefined {
  let best: { decision: Decision; policy: P } | undefined;
  for (const policy of policies) {
    const decision = evaluate(compiledOf(policy), call, context);
    if (!best || SEVERITY[decision.effect] > SEVERITY[best.decision.effect]) best = { decision, policy };
    if (decision.effect === 'deny') break; // nothing after it can be more severe
  }
  return best;
}

/**
 * Decides one call. Precedence: among matching enforce-mode rules the highest priority wins, and at equal
 * priority deny beats allow beats warn (then document order). A winning deny, or the `deny` default when no
 * enforce rule matches, blocks. Otherwise an enforce-mode warn flags the call; failing that, any matching
 * audit-mode deny or warn rule turns the effect into a non-enforced `warn`; otherwise the winning allow or
 * the default applies. Audit rules never block.
 *
 * Fail-closed rules: a call whose method, tool name or context values exceed `LIMITS` is denied as malformed.
 * When arguments cannot be fully inspected (size, depth, regex input limits), a deny or warn rule that needed
 * them counts as matched and an allow rule does not.
 */
export function evaluate(
  policy: CompiledPolicy,
  call: ToolCall,
  context: EvaluationContext = NO_CONTEXT,
): Decision {
  const malformed = callProblem(call, context);
  if (malformed !== undefined) {
    const reason = `malformed call: ${malformed}`;
    return { effect: 'deny', enforced: true, rule_id: null, reason, matched: [], path: [reason] };
  }
  const set = policy.candidates(call.method, call.tool);
  const args = call.arguments === undefined ? EMPTY_ARGUMENTS : call.arguments;
  const applicable = set.applicable(context);
  // The path sized once for its most lines (the selection's, one per rule, the conclusion) and cut to what it
  // holds: a copy of the selection's lines grown by pushes reallocated it on the way.
  const path = new Array<string>(applicable.trace.length + applicable.rules.length + 1);
  let n = 0;
  for (let k = 0; k < applicable.trace.length; k++) path[n++] = applicable.trace[k];
  let matched: MatchedRule[] | undefined;
  let facts: ArgumentFacts | undefined;
  const readEverything = (set.nameClasses & READ_EVERYTHING) !== 0;
  let winner: CompiledRule | undefined;
  let winnerDetail = '';
  let audit: CompiledRule | undefined;
  let auditDetail = '';

  for (const rule of applicable.rules) {
    let detail = '';
    let unsure = '';
    if (rule.classes !== 0 && (rule.classes & set.nameClasses) === 0) {
      const found = (facts ??= inspectArguments(args, readEverything));
      if ((rule.classes & found.classes) === 0) {
        if (found.limit === null) {
          path[n++] = rule.trace.classes;
          continue;
        }
        unsure = found.limit;
      }
    }
    if (rule.conditions !== null) {
      let failed = false;
      for (let i = 0; i < rule.conditions.length; i++) {
        const verdict = rule.conditions[i].holds(args);
        if (verdict === true) continue;
        if (verdict === false) {
          path[n++] = rule.trace.conditions[i];
          failed = true;
          break;
        }
        unsure ||= verdict.indeterminate;
      }
      if (failed) continue;
    }
    if (rule.secretPaths) {
      const found = (facts ??= inspectArguments(args, readEverything));
      if (found.secret !== null) {
        const where = locate(args, found.secret.text);
        detail += `; ${where} names the secret path ${found.secret.secret} (${JSON.stringify(found.secret.token)})`;
      } else if (found.limit !== null) unsure ||= found.limit;
      else {
        path[n++] = rule.trace.secretPaths;
        continue;
      }
    }
    if (rule.egress !== null) {
      const found = (facts ??= inspectArguments(args, readEverything));
      let outside: EgressFinding | undefined;
      for (const target of found.egress) {
        if (!rule.egress.allows(target.host)) {
          outside = target;
          break;
        }
      }
      if (outside !== undefined) {
        detail += `; ${locate(args, outside.text)} reaches "${outside.host}", which is not allowed`;
      } else if (found.limit !== null) unsure ||= found.limit;
      else {
        path[n++] = rule.trace.egress;
        continue;
      }
    }
    if (unsure !== '') {
      if (rule.effect === 'allow') {
        path[n++] = `${rule.label}: skipped, ${unsure}; an allow rule never matches what it cannot inspect`;
        continue;
      }
      detail += `; ${unsure}, so the rule is treated as matched (fail closed)`;
    }
    (matched ??= []).push(rule.matched);
    path[n++] = detail === '' ? rule.trace.matched : rule.trace.matched + detail;
    if (rule.mode === 'enforce') {
      if (winner === undefined) {
        winner = rule;
        winnerDetail = detail;
      }
    } else if (audit === undefined && rule.effect !== 'allow') {
      audit = rule;
      auditDetail = detail;
    }
  }

  if (winner?.effect === 'deny')
    return conclude('deny', true, winner.id, reasonOf(winner, winnerDetail), matched, path, n);
  if (winner === undefined && policy.defaultEffect === 'deny') {
    return conclude(
      'deny',
      true,
      null,
      'no enforce-mode rule matched; the default effect is deny',
      matched,
      path,
      n,
    );
  }
  if (winner?.effect === 'warn')
    return conclude('warn', true, winner.id, reasonOf(winner, winnerDetail), matched, path, n);
  if (audit !== undefined) {
    const enforcedPart =
      winner === undefined ? 'the default effect is allow' : reasonOf(winner, winnerDetail);
    const reason = `audit only, not enforced: ${reasonOf(audit, auditDetail)}; the enforced outcome is allow (${enforcedPart})`;
    return conclude('warn', false, audit.id, reason, matched, path, n);
  }
  if (winner !== undefined)
    return conclude('allow', true, winner.id, reasonOf(winner, winnerDetail), matched, path, n);
  return conclude('allow', true, null, 'no rule matched; the default effect is allow', matched, path, n);
}

function conclude(
  effect: Effect,
  enforced: boolean,
  ruleId: string | null,
  reason: string,
  matched: MatchedRule[] | undefined,
  path: string[],
  lines: number,
): Decision {
  path[lines] = enforced ? DECIDED[effect] : DECIDED_BY_AUDIT;
  path.length = lines + 1;
  return { effect, enforced, rule_id: ruleId, reason, matched: matched ?? [], path };
}

function reasonOf(rule: CompiledRule, detail: string): string {
  if (detail === '') return rule.fullReason;
  return rule.fullReason + (rule.fullReason === rule.reason ? ': ' : '; ') + detail.slice(2);
}

const fitsName = (value: unknown): boolean =>
  value === undefined || (typeof value === 'string' && value.length <= LIMITS.maxNameLength);

/** Why a call or context is malformed, or undefined. The common, well-formed case is one expression. */
function callProblem(call: ToolCall, context: EvaluationContext): string | undefined {
  if (
    typeof call === 'object' &&
    call !== null &&
    typeof call.method === 'string' &&
    call.method !== '' &&
    call.method.length <= LIMITS.maxMethodLength &&
    fitsName(call.tool) &&
    typeof context === 'object' &&
    context !== null &&
    fitsName(context.agent) &&
    fitsName(context.client) &&
    fitsName(context.environment) &&
    fitsName(context.upstream)
  ) {
    return undefined;
  }
  return describeProblem(call, context);
}

function describeProblem(call: ToolCall, context: EvaluationContext): string | undefined {
  if (typeof call !== 'object' || call === null) return 'the call must be an object';
  if (typeof call.method !== 'string' || call.method === '') return 'method must be a non-empty string';
  if (call.method.length > LIMITS.maxMethodLength)
    return `method is longer than ${LIMITS.maxMethodLength} characters`;
  if (call.tool !== undefined) {
    if (typeof call.tool !== 'string') return 'tool must be a string';
    if (call.tool.length > LIMITS.maxNameLength)
      return `tool name is longer than ${LIMITS.maxNameLength} characters`;
  }
  if (typeof context !== 'object' || context === null) return 'the context must be an object';
  return (
    contextValueProblem(context.agent, 'agent') ??
    contextValueProblem(context.client, 'client') ??
    contextValueProblem(context.environment, 'environment') ??
    contextValueProblem(context.upstream, 'upstream')
  );
}

function contextValueProblem(value: unknown, field: keyof EvaluationContext): string | undefined {
  if (value === undefined || (typeof value === 'string' && value.length <= LIMITS.maxNameLength))
    return undefined;
  if (typeof value !== 'string') return `context.${field} must be a string`;
  return `context.${field} is longer than ${LIMITS.maxNameLength} characters`;
}
