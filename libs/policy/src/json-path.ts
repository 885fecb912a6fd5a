import { LIMITS } from './limits.js';

/** One step of a compiled JSONPath. `descend` is recursive descent (`..name`, `..*`); key null means any. */
export type PathSegment =
  | { readonly kind: 'child'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'descend'; readonly key: string | null };

const NAME = /^[\p{L}\p{N}_$-]+/u;
const INDEX = /^-?\d{1,9}/;

/**
 * Parses the JSONPath subset rules use: `$` followed by `.name`, `.*`, `[n]` (negative counts from the end),
 * `[*]`, `['name']` / `["name"]` (with `\` escapes), `..name`, `..*` and `..['name']`.
 * Throws an Error whose message names the position of the problem.
 */
export function parseJsonPath(path: string): PathSegment[] {
  if (!path.startsWith('$')) throw new Error('must start with "$"');
  const segments: PathSegment[] = [];
  let at = 1;
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${at}`);
  };
  while (at < path.length) {
    if (path.startsWith('..', at)) {
      at += 2;
      if (path[at] === '*') {
        at++;
        segments.push({ kind: 'descend', key: null });
      } else if (path[at] === '[') {
        const key = bracket();
        if (typeof key !== 'string') fail('recursive descent takes a name');
        segments.push({ kind: 'descend', key: key as string });
      } else segments.push({ kind: 'descend', key: name() });
    } else if (path[at] === '.') {
      at++;
      if (path[at] === '*') {
        at++;
        segments.push({ kind: 'wildcard' });
      } else segments.push({ kind: 'child', key: name() });
    } else if (path[at] === '[') {
      const key = bracket();
      if (key === null) segments.push({ kind: 'wildcard' });
      else if (typeof key === 'number') segments.push({ kind: 'index', index: key });
      else segments.push({ kind: 'child', key });
    } else fail(`unexpected "${path[at]}"`);
  }
  return segments;

  function name(): string {
    const match = NAME.exec(path.slice(at));
    if (!match) fail('expected a name');
    at += (match as RegExpExecArray)[0].length;
    return (match as RegExpExecArray)[0];
  }

  /** `[*]` → null, `[3]` → 3, `['a']` → 'a'. */
  function bracket(): string | number | null {
    at++;
    let value: string | number | null;
    const quote = path[at];
    if (quote === '*') {
      at++;
      value = null;
    } else if (quote === "'" || quote === '"') {
      at++;
      let key = '';
      while (at < path.length && path[at] !== quote) {
        if (path[at] === '\\') at++;
        key += path[at++] ?? '';
      }
      if (path[at] !== quote) fail('unterminated quoted name');
      at++;
      value = key;
    } else {
      const match = INDEX.exec(path.slice(at));
      if (!match) fail('expected *, an index or a quoted name');
      at += (match as RegExpExecArray)[0].length;
      value = Number((match as RegExpExecArray)[0]);
    }
    if (path[at] !== ']') fail('expected "]"');
    at++;
    return value;
  }
}

/** Values a path selects, and whether the walk stopped at a limit before seeing everything. */
export interface Selection {
  readonly values: readonly unknown[];
  readonly truncated: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies a compiled path to a JSON value. Only own properties are visited (never `constructor` or
 * `__proto__` from the prototype); a property holding `undefined` (not JSON) counts as absent. Recursive descent and wildcards share one budget of
 * `LIMITS.maxArgumentNodes` visited values and `LIMITS.maxArgumentDepth` levels; past it, `truncated` is set
 * so the caller can treat the condition as indeterminate instead of silently missing values.
 */
export function selectPath(root: unknown, segments: readonly PathSegment[]): Selection {
  let current: unknown[] = [root];
  let budget = LIMITS.maxArgumentNodes;
  let truncated = false;
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (--budget < 0) return { values: next, truncated: true };
      switch (segment.kind) {
        case 'child':
          if (isObject(value) && Object.hasOwn(value, segment.key) && value[segment.key] !== undefined) {
            next.push(value[segment.key]);
          }
          break;
        case 'index':
          if (Array.isArray(value)) {
            const index = segment.index < 0 ? value.length + segment.index : segment.index;
            if (index >= 0 && index < value.length) next.push(value[index]);
          }
          break;
        case 'wildcard': {
          const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
          if (children.length > budget) return { values: next, truncated: true };
          budget -= children.length;
          for (const child of children) next.push(child);
          break;
        }
        case 'descend':
          if (!descend(value, segment.key, next, 0)) truncated = true;
          break;
      }
    }
    current = next;
    if (truncated) break;
  }
  return { values: current, truncated };

  /** Depth-first collection of matching children at any depth; false when the budget ran out. */
  function descend(value: unknown, key: string | null, out: unknown[], depth: number): boolean {
    if (depth > LIMITS.maxArgumentDepth || --budget < 0) return false;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (key === null) out.push(item);
        if (!descend(item, key, out, depth + 1)) return false;
      }
    } else if (isObject(value)) {
      for (const [k, item] of Object.entries(value)) {
        if (key === null || k === key) out.push(item);
        if (!descend(item, key, out, depth + 1)) return false;
      }
    }
    return true;
  }
}
