/** Effects a rule can produce. `warn` lets the call through and flags it. */
export const EFFECTS = ['allow', 'deny', 'warn'] as const;
export type Effect = (typeof EFFECTS)[number];

/** `audit` rules are evaluated and reported but never block; `enforce` rules decide. */
export const MODES = ['enforce', 'audit'] as const;
export type Mode = (typeof MODES)[number];

/** Coarse capability classes computed from the tool name, the method and the arguments. */
export const TOOL_CLASSES = [
  'read',
  'write',
  'execute',
  'network',
  'filesystem',
  'database',
  'destructive',
] as const;
export type ToolClass = (typeof TOOL_CLASSES)[number];

/** Operators of an argument condition. */
export const ARGUMENT_OPS = [
  'equals',
  'in',
  'regex',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'exists',
] as const;
export type ArgumentOp = (typeof ARGUMENT_OPS)[number];

/** The four context dimensions a rule can be bound to. */
export const BINDING_DIMENSIONS = ['agents', 'clients', 'environments', 'upstreams'] as const;
export type BindingDimension = (typeof BINDING_DIMENSIONS)[number];

/** Any JSON value. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * One condition on the call arguments. `path` is a JSONPath subset (`$`, `.name`, `['name']`, `[0]`, `[-1]`,
 * `[*]`, `.*`, `..name`); the condition holds when at least one value the path selects satisfies `op`.
 */
export interface ArgumentCondition {
  readonly path: string;
  readonly op: ArgumentOp;
  /** Required for every op; `exists` takes a boolean, `between` a `[min, max]` pair, `in` an array. */
  readonly value: JsonValue;
}

/** Matches when a URL or host found in the arguments names a host outside `allow_hosts`. */
export interface EgressMatcher {
  /** `example.com` allows it and its subdomains, `*.example.com` only subdomains, IP literals exactly. */
  readonly allow_hosts: readonly string[];
}

/** The rule applies only when every listed dimension matches the evaluation context (globs allowed). */
export interface RuleBindings {
  readonly agents?: readonly string[];
  readonly clients?: readonly string[];
  readonly environments?: readonly string[];
  readonly upstreams?: readonly string[];
}

/** One rule. Every matcher present must match (logical AND); a rule without matchers matches every call. */
export interface PolicyRule {
  /** Unique within the document; reported in decisions and audit events. */
  readonly id: string;
  readonly description?: string;
  readonly effect: Effect;
  /** Higher first; default 0. */
  readonly priority?: number;
  /** Default `enforce`. */
  readonly mode?: Mode;
  /** MCP methods, exact or glob (`tools/call`, `resources/*`). */
  readonly methods?: readonly string[];
  /** Tool names: exact, glob (`fs_*`) or regex (`/^shell_/`), compared in normalised form. */
  readonly tools?: readonly string[];
  readonly arguments?: readonly ArgumentCondition[];
  /** Matches when the call has at least one of these classes. */
  readonly tool_classes?: readonly ToolClass[];
  /** Matches when a path-like argument names a well-known secret file or directory. */
  readonly secret_paths?: true;
  readonly egress?: EgressMatcher;
  readonly bindings?: RuleBindings;
}

/** A policy document, version 1. JSON-serialisable; its JSON Schema is `POLICY_JSON_SCHEMA`. */
export interface PolicyDocument {
  readonly version: 1;
  /** Effect when no enforce-mode rule matches; default `allow`. */
  readonly default_effect?: 'allow' | 'deny';
  readonly rules: readonly PolicyRule[];
}

/**
 * A call to decide. For `tools/call` pass the tool name and its `arguments`; for other methods pass the
 * request `params` as `arguments` so the inspectors see them (e.g. the `uri` of `resources/read`).
 */
export interface ToolCall {
  readonly method: string;
  readonly tool?: string;
  readonly arguments?: unknown;
}

/** Who is calling, through what, where. Rules with bindings apply only when these match. */
export interface EvaluationContext {
  readonly agent?: string;
  readonly client?: string;
  readonly environment?: string;
  readonly upstream?: string;
}

/** A rule that matched, whatever its mode. */
export interface MatchedRule {
  readonly rule_id: string;
  readonly effect: Effect;
  readonly mode: Mode;
}

/** The outcome of one evaluation. Only `effect === 'deny'` blocks the call. */
export interface Decision {
  readonly effect: Effect;
  /** True when the effect comes from an enforce-mode rule or the default; false when only audit rules speak. */
  readonly enforced: boolean;
  /** The rule that decided, or null for the default effect and malformed calls. */
  readonly rule_id: string | null;
  readonly reason: string;
  /** Every rule that matched, in precedence order (priority, then deny > allow > warn, then document order). */
  readonly matched: readonly MatchedRule[];
  /** Evaluation trace: how candidates were selected and why each was skipped or matched. */
  readonly path: readonly string[];
}
