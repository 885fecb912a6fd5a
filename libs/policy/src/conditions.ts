import { jsonEqual, jsonProblem } from './json-value.js';
import { parseJsonPath, selectPath, type PathSegment } from './json-path.js';
import { LIMITS } from './limits.js';
import { compileRegexLiteral } from './patterns.js';
import { ARGUMENT_OPS, type ArgumentOp } from './types.js';

/** What a condition says about a call: it holds, it does not, or it could not tell (and says why). */
export type Verdict = true | false | { readonly indeterminate: string };

const NUMERIC_STRING = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const MISSING = Symbol('missing');
// Object.prototype.hasOwnProperty.call is what V8 optimises best; it only ever runs on plain records here.
const hasOwnProperty = Object.prototype.hasOwnProperty;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Numbers compare as numbers; strings that are plain decimal numbers (`"5000"`) compare as their value, so
 * sending a number as a string does not slip under a range condition. Anything else is not a number.
 */
function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC_STRING.test(value.trim())) return Number(value.trim());
  return Number.NaN;
}

/**
 * A compiled argument condition. One class with a switch, not a closure per condition: the evaluator's call
 * site stays monomorphic, which keeps hundreds of conditions cheap.
 */
export class CompiledCondition {
  /**
   * For paths of plain names and indexes (`$.a.b[0]`, the common case) the steps to walk straight to the one
   * value, without allocating; same semantics as `selectPath`. Null for wildcard and recursive paths.
   */
  private readonly direct: ReadonlyArray<string | number> | null;
  private readonly scalars: ReadonlySet<unknown> | null;
  private readonly structured: readonly unknown[];

  constructor(
    /** `$.path regex /x/`, for traces and reasons. */
    readonly text: string,
    private readonly segments: readonly PathSegment[],
    private readonly op: ArgumentOp,
    private readonly value: unknown,
    private readonly regex: RegExp | null,
  ) {
    const simple = segments.every((s) => s.kind === 'child' || s.kind === 'index');
    this.direct = simple
      ? segments.map((s) => (s.kind === 'child' ? s.key : (s as { index: number }).index))
      : null;
    const list = op === 'in' ? (value as unknown[]) : [];
    this.scalars = op === 'in' ? new Set(list.filter((v) => typeof v !== 'object' || v === null)) : null;
    this.structured = list.filter((v) => typeof v === 'object' && v !== null);
  }

  holds(args: unknown): Verdict {
    if (this.direct !== null) {
      const item = this.walk(args);
      if (this.op === 'exists') return (item !== MISSING) === (this.value === true);
      return item === MISSING ? false : this.test(item);
    }
    const selection = selectPath(args, this.segments);
    if (this.op === 'exists') {
      if (selection.values.length > 0) return this.value === true;
      return selection.truncated
        ? { indeterminate: `${this.text} could not be fully searched` }
        : this.value !== true;
    }
    let unsure: Verdict = false;
    for (const item of selection.values) {
      const verdict = this.test(item);
      if (verdict === true) return true;
      if (verdict !== false) unsure = verdict;
    }
    if (unsure === false && selection.truncated) {
      return { indeterminate: `${this.text} could not be fully searched within the argument limits` };
    }
    return unsure;
  }

  private walk(root: unknown): unknown {
    const steps = this.direct as ReadonlyArray<string | number>;
    let current = root;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (typeof step === 'string') {
        if (!isRecord(current)) return MISSING;
        // One lookup settles the common cases (absent: undefined); present values must still be own properties.
        const next = current[step];
        if (next === undefined || !hasOwnProperty.call(current, step)) return MISSING;
        current = next;
      } else {
        if (!Array.isArray(current)) return MISSING;
        const index = step < 0 ? current.length + step : step;
        if (index < 0 || index >= current.length) return MISSING;
        current = current[index];
      }
    }
    return current;
  }

  private test(item: unknown): Verdict {
    const value = this.value;
    switch (this.op) {
      case 'equals':
        return jsonEqual(item, value);
      case 'in':
        return typeof item !== 'object' || item === null
          ? (this.scalars as ReadonlySet<unknown>).has(item)
          : this.structured.some((v) => jsonEqual(item, v));
      case 'contains':
        if (typeof item === 'string') return typeof value === 'string' && item.includes(value);
        return Array.isArray(item) && item.some((element) => jsonEqual(element, value));
      case 'regex':
        if (typeof item !== 'string') return false;
        if (item.length > LIMITS.maxRegexInput) {
          return {
            indeterminate: `a ${item.length}-character string is longer than regexes may read (${LIMITS.maxRegexInput})`,
          };
        }
        return (this.regex as RegExp).test(item);
      case 'gt':
        return asNumber(item) > (value as number);
      case 'gte':
        return asNumber(item) >= (value as number);
      case 'lt':
        return asNumber(item) < (value as number);
      case 'lte':
        return asNumber(item) <= (value as number);
      case 'between': {
        const n = asNumber(item);
        return n >= (value as number[])[0] && n <= (value as number[])[1];
      }
      case 'exists':
        return true;
    }
  }
}

/**
 * Validates and compiles `{ path, op, value }`. Returns the condition or a list of `[field, message]`
 * problems. Value shapes: `exists` a boolean, `in` a non-empty array, `regex` a `/source/flags` literal,
 * `gt`/`gte`/`lt`/`lte` a finite number, `between` `[min, max]` with min ≤ max, `equals`/`contains` any JSON.
 */
export function compileCondition(
  path: unknown,
  op: unknown,
  value: unknown,
): CompiledCondition | Array<[field: string, message: string]> {
  const problems: Array<[string, string]> = [];
  let segments: PathSegment[] = [];
  if (typeof path !== 'string' || path.length === 0) problems.push(['path', 'must be a non-empty string']);
  else if (path.length > LIMITS.maxPatternLength) {
    problems.push(['path', `longer than ${LIMITS.maxPatternLength} characters`]);
  } else {
    try {
      segments = parseJsonPath(path);
    } catch (error) {
      problems.push(['path', `invalid JSONPath "${path}": ${(error as Error).message}`]);
    }
  }
  if (typeof op !== 'string' || !(ARGUMENT_OPS as readonly string[]).includes(op)) {
    problems.push(['op', `must be one of ${ARGUMENT_OPS.join(', ')}`]);
    return problems;
  }
  const checked = checkValue(op as ArgumentOp, value);
  if (typeof checked === 'string') problems.push(['value', checked]);
  if (problems.length > 0) return problems;
  const text = `${path as string} ${op} ${op === 'regex' ? (value as string) : JSON.stringify(value)}`;
  return new CompiledCondition(
    text,
    segments,
    op as ArgumentOp,
    value,
    checked instanceof RegExp ? checked : null,
  );
}

/** A problem with `value` for this op, or the compiled regex for `regex`, or undefined when fine. */
function checkValue(op: ArgumentOp, value: unknown): string | RegExp | undefined {
  if (value === undefined) return `is required for op "${op}"`;
  const notJson = jsonProblem(value);
  if (notJson) return notJson;
  switch (op) {
    case 'exists':
      return typeof value === 'boolean' ? undefined : 'must be true or false for op "exists"';
    case 'in':
      return Array.isArray(value) && value.length > 0 ? undefined : 'must be a non-empty array for op "in"';
    case 'regex':
      return typeof value === 'string'
        ? compileRegexLiteral(value)
        : 'must be a regex written /source/flags for op "regex"';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof value === 'number' ? undefined : `must be a number for op "${op}"`;
    case 'between': {
      if (
        !Array.isArray(value) ||
        value.length !== 2 ||
        typeof value[0] !== 'number' ||
        typeof value[1] !== 'number'
      ) {
        return 'must be [min, max] numbers for op "between"';
      }
      return value[0] > value[1] ? `min ${value[0]} is greater than max ${value[1]}` : undefined;
    }
    default:
      return undefined;
  }
}
