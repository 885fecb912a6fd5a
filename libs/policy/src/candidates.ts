import type { CompiledRule } from './compile-rule.js';
import { normalizeName, type NormalizedName } from './normalize.js';
import type { EvaluationContext } from './types.js';

/** The rules left once bindings are applied to a context, and the trace lines explaining the selection. */
export interface Applicable {
  readonly rules: readonly CompiledRule[];
  readonly trace: readonly string[];
}

/** Stands for a context value that is not set. Not a string, so no real value can collide with it. */
const ABSENT: unique symbol = Symbol('absent');
type Key = string | typeof ABSENT;

/** A context tuple already bound, under its agent. */
interface BoundContext {
  readonly client: Key;
  readonly environment: Key;
  readonly upstream: Key;
  readonly applicable: Applicable;
}
/** Distinct contexts remembered per candidate set before its memo is reset. */
const CONTEXT_MEMO_SIZE = 256;

/**
 * The rules that can apply to one (method, tool) pair, in precedence order, with what is known about the
 * tool name. Bindings depend only on the context, so the rules surviving them are memoised per context.
 */
export class CandidateSet {
  /**
   * agent → the (client, environment, upstream) tuples seen with it. One hash lookup, then a short scan of
   * string comparisons: cheaper than hashing four values, and agents rarely appear in more than a few tuples.
   */
  private byAgent = new Map<Key, BoundContext[]>();
  private memoized = 0;
  private readonly unbound: Applicable | null;

  constructor(
    /** Null when the call names no tool. */
    readonly name: NormalizedName | null,
    /** Classes from the tool name and the method. */
    readonly nameClasses: number,
    private readonly rules: readonly CompiledRule[],
    private readonly trace: readonly string[],
  ) {
    this.unbound = rules.some((rule) => rule.bindings !== null) ? null : { rules, trace };
  }

  applicable(context: EvaluationContext): Applicable {
    if (this.unbound !== null) return this.unbound;
    const seen = this.byAgent.get(context.agent ?? ABSENT);
    if (seen !== undefined) {
      const client = context.client ?? ABSENT;
      const environment = context.environment ?? ABSENT;
      const upstream = context.upstream ?? ABSENT;
      for (let i = 0; i < seen.length; i++) {
        const entry = seen[i];
        if (entry.client === client && entry.environment === environment && entry.upstream === upstream) {
          return entry.applicable;
        }
      }
    }
    return this.remember(context, seen);
  }

  private remember(context: EvaluationContext, seen: BoundContext[] | undefined): Applicable {
    if (++this.memoized > CONTEXT_MEMO_SIZE) {
      this.byAgent = new Map();
      this.memoized = 1;
      seen = undefined;
    }
    const entry: BoundContext = {
      client: context.client ?? ABSENT,
      environment: context.environment ?? ABSENT,
      upstream: context.upstream ?? ABSENT,
      applicable: this.bind(context),
    };
    if (seen === undefined) this.byAgent.set(context.agent ?? ABSENT, [entry]);
    else seen.push(entry);
    return entry.applicable;
  }

  /**
   * Keeps the rules whose bindings the context satisfies. A missing context value never satisfies a binding,
   * and a disguised one (look-alike or invisible characters) never satisfies an allow rule's binding.
   */
  private bind(context: EvaluationContext): Applicable {
    const names: Partial<Record<keyof EvaluationContext, NormalizedName>> = {};
    const rules: CompiledRule[] = [];
    const trace = [...this.trace];
    for (const rule of this.rules) {
      const failed = rule.bindings?.find((binding) => {
        const raw = context[binding.context];
        if (raw === undefined) return true;
        const name = (names[binding.context] ??= normalizeName(raw));
        return (name.disguised && rule.effect === 'allow') || !binding.matcher.matches(name.key);
      });
      if (failed) trace.push(failed.skipped);
      else rules.push(rule);
    }
    return { rules, trace };
  }
}
