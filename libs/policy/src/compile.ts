import { CandidateSet } from './candidates.js';
import { classesOfMethod, classesOfName } from './classify.js';
import { compileRule, type CompiledRule } from './compile-rule.js';
import { reportUnknownFields } from './matchers.js';
import { PolicyCompileError, type PolicyProblem } from './errors.js';
import { deepFreeze } from './freeze.js';
import { LIMITS } from './limits.js';
import { normalizeName } from './normalize.js';
import type { PolicyDocument } from './types.js';

const DOCUMENT_FIELD_SET: Record<keyof PolicyDocument, true> = {
  version: true,
  default_effect: true,
  rules: true,
};
export const DOCUMENT_FIELDS = Object.keys(DOCUMENT_FIELD_SET) as ReadonlyArray<keyof PolicyDocument>;

const EFFECT_RANK = { deny: 0, allow: 1, warn: 2 } as const;

/** Distinct tool names remembered per method before the memo is reset; bounds memory under name spraying. */
const CANDIDATE_MEMO_SIZE = 4_096;
const METHOD_MEMO_SIZE = 64;

/**
 * A validated, indexed policy. Build it with `compilePolicy`; evaluate with `evaluate`. Immutable apart from
 * an internal, bounded memo of candidate rules per (method, tool name), which makes repeated calls to the
 * same tool skip name normalisation and pattern matching entirely.
 */
export class CompiledPolicy {
  /** Effect when no enforce-mode rule matches. */
  readonly defaultEffect: 'allow' | 'deny';
  /** A deep-frozen copy of the source document. */
  readonly document: PolicyDocument;
  /** @internal Rules in precedence order: priority desc, then deny > allow > warn, then document order. */
  readonly rules: readonly CompiledRule[];
  private readonly memo = new Map<string, Map<string, CandidateSet>>();
  private readonly noToolMemo = new Map<string, CandidateSet>();

  /** @internal use `compilePolicy` */
  constructor(document: PolicyDocument, rules: CompiledRule[]) {
    this.document = deepFreeze(structuredClone(document));
    this.defaultEffect = document.default_effect ?? 'allow';
    this.rules = rules.sort(
      (a, b) => b.priority - a.priority || EFFECT_RANK[a.effect] - EFFECT_RANK[b.effect] || a.order - b.order,
    );
  }

  /** @internal The candidate rules for a call, memoised by the raw method and tool name. */
  candidates(method: string, tool: string | undefined): CandidateSet {
    if (tool === undefined) {
      let set = this.noToolMemo.get(method);
      if (!set) {
        if (this.noToolMemo.size >= METHOD_MEMO_SIZE) this.noToolMemo.clear();
        set = this.select(method, undefined);
        this.noToolMemo.set(method, set);
      }
      return set;
    }
    let byTool = this.memo.get(method);
    if (!byTool) {
      if (this.memo.size >= METHOD_MEMO_SIZE) this.memo.clear();
      byTool = new Map();
      this.memo.set(method, byTool);
    }
    let set = byTool.get(tool);
    if (!set) {
      if (byTool.size >= CANDIDATE_MEMO_SIZE) byTool.clear();
      set = this.select(method, tool);
      byTool.set(tool, set);
    }
    return set;
  }

  private select(method: string, tool: string | undefined): CandidateSet {
    const name = tool === undefined ? null : normalizeName(tool);
    const trace: string[] = [];
    const rules: CompiledRule[] = [];
    let byMethod = 0;
    let byTool = 0;
    let disguisedAllows = 0;
    for (const rule of this.rules) {
      if (rule.methods && !rule.methods.matches(method)) {
        byMethod++;
        continue;
      }
      if (rule.tools) {
        if (name === null || !rule.tools.matches(name.key)) {
          byTool++;
          continue;
        }
        // A disguised name (look-alike letters, invisible characters) may hit deny and warn rules, but an
        // allow-list entry never vouches for it.
        if (name.disguised && rule.effect === 'allow') {
          disguisedAllows++;
          continue;
        }
      }
      rules.push(rule);
    }
    const subject = name === null ? `method "${method}" (no tool)` : `method "${method}", tool "${name.key}"`;
    trace.push(
      `candidates: ${rules.length} of ${this.rules.length} rules for ${subject}` +
        ` (${byMethod} excluded by methods, ${byTool} by tools)`,
    );
    if (name?.disguised) {
      trace.push(
        `tool name ${JSON.stringify(tool)} is disguised (invisible, compatibility or look-alike characters);` +
          ` normalised to "${name.key}"; ${disguisedAllows} allow rule(s) on tools do not vouch for it`,
      );
    }
    return new CandidateSet(
      name,
      (tool === undefined ? 0 : classesOfName(tool)) | classesOfMethod(method),
      rules,
      trace,
    );
  }
}

/**
 * Validates a policy document and compiles it for fast evaluation. Throws `PolicyCompileError` listing every
 * problem (unknown fields at any level, wrong types, duplicate ids, bad or catastrophic regexes, over-long
 * patterns…), each naming the rule and field, e.g. `rules[3] (id "no-shell"): tools[1]`. Nothing is ignored.
 */
export function compilePolicy(document: unknown): CompiledPolicy {
  const problems: PolicyProblem[] = [];
  const top = (where: string, message: string) => problems.push({ where: where || '(document)', message });
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new PolicyCompileError([{ where: '(document)', message: 'must be a JSON object' }]);
  }
  const doc = document as Record<string, unknown>;
  reportUnknownFields(doc, DOCUMENT_FIELDS, top, '');
  if (doc.version !== 1) top('version', 'is required and must be 1');
  if (doc.default_effect !== undefined && doc.default_effect !== 'allow' && doc.default_effect !== 'deny') {
    top('default_effect', 'must be "allow" or "deny"');
  }
  const compiled: CompiledRule[] = [];
  if (!Array.isArray(doc.rules)) top('rules', 'is required: an array of rules');
  else if (doc.rules.length > LIMITS.maxRules)
    top('rules', `has ${doc.rules.length} rules, more than the limit of ${LIMITS.maxRules}`);
  else {
    const seen = new Map<string, number>();
    for (let i = 0; i < doc.rules.length; i++) {
      const raw: unknown = doc.rules[i];
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      const usableId = typeof id === 'string' && id !== '' ? id : undefined;
      const prefix = usableId === undefined ? `rules[${i}]` : `rules[${i}] (id ${JSON.stringify(usableId)})`;
      const report = (field: string, message: string) =>
        problems.push({ where: field === '' ? prefix : `${prefix}: ${field}`, rule_id: usableId, message });
      if (usableId !== undefined) {
        const first = seen.get(usableId);
        if (first !== undefined) report('id', `duplicates the id of rules[${first}]`);
        else seen.set(usableId, i);
      }
      const rule = compileRule(raw, i, report);
      if (rule) compiled.push(rule);
    }
  }
  if (problems.length > 0) throw new PolicyCompileError(problems);
  return new CompiledPolicy(document as PolicyDocument, compiled);
}
