import {
  evaluateAll,
  type CompiledPolicy,
  type Decision,
  type EvaluationContext,
  type ToolCall,
} from '../../../../libs/policy/src/index.js';
import type { PolicySnapshot } from '../../../../libs/runtime/src/index.js';

/** A compiled policy and where it came from: what denials, audit events and /healthz name. */
export interface LoadedPolicy {
  compiled: CompiledPolicy;
  /** `file` or `control-plane`. */
  kind: 'file' | 'control-plane';
  /** `file:/etc/agent-bom/policy.json` or `control-plane bundle`. */
  source: string;
  /** A content digest (file) or the bundle version. */
  version: string;
  /**
   * `source@version`, what audit events name as `policy_version`: one string per loaded policy. Spelled per call
   * it was a new string each time, which the audit's name cache then flattened and hashed (~0.7% of the CPU).
   */
  auditVersion: string;
  /** Rules whose match depends on argument values: they never hide a tool from `tools/list`. */
  argumentRules: ReadonlySet<string>;
  loadedAt: string;
}

/** A snapshot of the shared policy sources (file or bundle), as the gateway names it. */
export function fromSnapshot(
  snapshot: PolicySnapshot,
  kind: LoadedPolicy['kind'],
  source: string,
): LoadedPolicy {
  const argumentRules = new Set(
    snapshot.document.rules.filter((rule) => rule.arguments).map((rule) => rule.id),
  );
  return {
    compiled: snapshot.compiled,
    kind,
    source,
    version: snapshot.version,
    auditVersion: `${source}@${snapshot.version}`,
    argumentRules,
    loadedAt: snapshot.loadedAt,
  };
}

export interface GatewayDecision {
  decision: Decision;
  /** The policy that decided (the most severe effect wins across the file and the bundle). */
  policy: LoadedPolicy;
}

/**
 * Evaluates a call against every policy in force (the `--policy` file and the tenant's control-plane bundle)
 * and keeps the most severe answer: a deny from either denies. Undefined when no policy is loaded.
 */
export function decide(
  policies: readonly LoadedPolicy[],
  call: ToolCall,
  context: EvaluationContext,
): GatewayDecision | undefined {
  return evaluateAll(policies, compiledOf, call, context);
}

const compiledOf = (policy: LoadedPolicy): CompiledPolicy => policy.compiled;

/**
 * Whether `tools/list` shows a tool: hidden when a call to it is denied whatever its arguments — the deciding
 * rule (or the default) does not look at argument values. A tool denied only for some arguments stays listed
 * and is decided per call.
 */
export function visibleTool(
  policies: readonly LoadedPolicy[],
  tool: string,
  context: EvaluationContext,
): boolean {
  const verdict = decide(policies, { method: 'tools/call', tool, arguments: {} }, context);
  if (!verdict || verdict.decision.effect !== 'deny') return true;
  const rule = verdict.decision.rule_id;
  return rule !== null && verdict.policy.argumentRules.has(rule);
}
