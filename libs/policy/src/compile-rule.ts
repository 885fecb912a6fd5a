import type { CompiledCondition } from './conditions.js';
import type { HostAllowList } from './egress.js';
import {
  RULE_FIELDS,
  RULE_ID_PATTERN,
  compileBindings,
  compileClasses,
  compileConditions,
  compileEgress,
  compileTools,
  isPlainObject,
  reportUnknownFields,
  stringList,
  type CompiledBinding,
  type Report,
  type ToolMatcher,
} from './matchers.js';
import { LIMITS } from './limits.js';
import { NameMatcher } from './patterns.js';
import { EFFECTS, MODES, type Effect, type MatchedRule, type Mode } from './types.js';

/** A rule ready to evaluate. Everything derivable from the rule alone is computed here, once. */
export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  readonly mode: Mode;
  readonly priority: number;
  /** Index in the document, the last tie-breaker. */
  readonly order: number;
  readonly methods: NameMatcher | null;
  readonly tools: ToolMatcher | null;
  readonly conditions: readonly CompiledCondition[] | null;
  /** Bit set of `tool_classes`; 0 when absent. */
  readonly classes: number;
  readonly secretPaths: boolean;
  readonly egress: HostAllowList | null;
  readonly bindings: readonly CompiledBinding[] | null;
  /** Shared, frozen entry for `Decision.matched`. */
  readonly matched: MatchedRule;
  /** `rule "id" (priority 10, enforce deny)` */
  readonly label: string;
  /** `denied by rule "id" (description)` */
  readonly reason: string;
  /** `reason`, plus what matched that is known statically (methods, tools, arguments, classes). */
  readonly fullReason: string;
  /** Precomputed trace lines, so evaluation does not build strings on the common paths. */
  readonly trace: {
    readonly matched: string;
    readonly classes: string;
    readonly secretPaths: string;
    readonly egress: string;
    readonly conditions: readonly string[];
  };
}

const VERB: Readonly<Record<Effect, string>> = { allow: 'allowed', deny: 'denied', warn: 'flagged' };

/**
 * Validates one rule and compiles it. Problems go to `report` as `(field, message)`; returns null when there
 * was any, so a document with a broken rule never half-compiles.
 */
export function compileRule(raw: unknown, order: number, report: Report): CompiledRule | null {
  if (!isPlainObject(raw)) {
    report('', 'must be an object');
    return null;
  }
  let failed = false;
  const fail: Report = (field, message) => {
    failed = true;
    report(field, message);
  };
  reportUnknownFields(raw, RULE_FIELDS, fail, '');

  const id = raw.id;
  if (typeof id !== 'string' || id === '') fail('id', 'is required: a non-empty string');
  else if (id.length > LIMITS.maxRuleIdLength || !RULE_ID_PATTERN.test(id)) {
    fail(
      'id',
      `must be 1-${LIMITS.maxRuleIdLength} characters of letters, digits and . _ : / -, starting with a letter or digit`,
    );
  }
  if (
    raw.description !== undefined &&
    (typeof raw.description !== 'string' || raw.description.length > LIMITS.maxDescriptionLength)
  ) {
    fail('description', `must be a string of at most ${LIMITS.maxDescriptionLength} characters`);
  }
  if (!(EFFECTS as readonly unknown[]).includes(raw.effect))
    fail('effect', `is required: one of ${EFFECTS.join(', ')}`);
  const priority = raw.priority ?? 0;
  if (!Number.isInteger(priority) || Math.abs(priority as number) > LIMITS.maxPriority) {
    fail('priority', `must be an integer between -${LIMITS.maxPriority} and ${LIMITS.maxPriority}`);
  }
  const mode = raw.mode ?? 'enforce';
  if (!(MODES as readonly unknown[]).includes(mode)) fail('mode', `must be one of ${MODES.join(', ')}`);

  const effect = raw.effect as Effect;
  const label = `rule "${String(id)}" (priority ${String(priority)}, ${String(mode)} ${String(effect)})`;
  const methodList = raw.methods === undefined ? null : stringList(raw.methods, 'methods', fail);
  const tools = raw.tools === undefined ? null : compileTools(raw.tools, fail);
  const conditions = raw.arguments === undefined ? null : compileConditions(raw.arguments, fail);
  const classes = raw.tool_classes === undefined ? 0 : compileClasses(raw.tool_classes, fail);
  if (raw.secret_paths !== undefined && raw.secret_paths !== true) {
    fail('secret_paths', 'must be true (omit the field to not check secret paths)');
  }
  const egress = raw.egress === undefined ? null : compileEgress(raw.egress, fail);
  const bindings = raw.bindings === undefined ? null : compileBindings(raw.bindings, fail, label);
  if (failed) return null;

  const because = [
    methodList && `method in ${JSON.stringify(methodList)}`,
    tools && `tool matches ${JSON.stringify(raw.tools)}`,
    conditions && conditions.map((c) => `arguments ${c.text}`).join(', '),
    classes !== 0 && `tool class in ${JSON.stringify(raw.tool_classes)}`,
  ]
    .filter(Boolean)
    .join('; ');
  const description =
    typeof raw.description === 'string' && raw.description !== '' ? ` (${raw.description})` : '';
  return {
    id: id as string,
    effect,
    mode: mode as Mode,
    priority: priority as number,
    order,
    methods: methodList && new NameMatcher(methodList),
    tools,
    conditions,
    classes,
    secretPaths: raw.secret_paths === true,
    egress,
    bindings,
    matched: Object.freeze({ rule_id: id as string, effect, mode: mode as Mode }),
    label,
    reason: `${VERB[effect]} by rule "${id as string}"${description}`,
    fullReason: `${VERB[effect]} by rule "${id as string}"${description}${because === '' ? '' : `: ${because}`}`,
    trace: {
      matched: `${label}: matched${because === '' ? '' : ` (${because})`}`,
      classes: `${label}: skipped, the call has no class in ${JSON.stringify(raw.tool_classes)}`,
      secretPaths: `${label}: skipped, no argument names a secret path`,
      egress: `${label}: skipped, no URL or host in the arguments is outside allow_hosts`,
      conditions: (conditions ?? []).map((c) => `${label}: skipped, arguments ${c.text} does not hold`),
    },
  };
}
