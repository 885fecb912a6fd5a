import { LIMITS } from './limits.js';
import { regexRisk } from './regex-safety.js';

/** Flags a rule regex may carry. `g` and `y` are refused: they make `test()` stateful. */
const ALLOWED_FLAGS = /^[imsu]*$/;
const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

/** True when a pattern is written as a regex literal, `/…/flags`. */
export function isRegexLiteral(pattern: string): boolean {
  return pattern.startsWith('/');
}

/**
 * Compiles a `/…/flags` regex literal, refusing bad syntax, stateful or unknown flags, over-long sources and
 * patterns at risk of catastrophic backtracking. Returns the RegExp or a message naming the problem.
 */
export function compileRegexLiteral(pattern: string, extraFlags = ''): RegExp | string {
  if (pattern.length > LIMITS.maxPatternLength) {
    return `pattern is ${pattern.length} characters, more than the limit of ${LIMITS.maxPatternLength}`;
  }
  const literal = REGEX_LITERAL.exec(pattern);
  if (!literal) return `invalid regex ${pattern}: write regexes as /source/flags`;
  const [, source, flags] = literal;
  if (!ALLOWED_FLAGS.test(flags) || new Set(flags).size !== flags.length) {
    return `invalid regex ${pattern}: flags must be a subset of "imsu" (g and y make matching stateful)`;
  }
  const allFlags = [...new Set(flags + extraFlags)].join('');
  let regex: RegExp;
  try {
    regex = new RegExp(source, allFlags);
  } catch (error) {
    return `invalid regex ${pattern}: ${(error as Error).message}`;
  }
  const risk = regexRisk(source, allFlags);
  if (risk) return `regex ${pattern} risks catastrophic backtracking: ${risk}`;
  return regex;
}

/** True when a pattern has glob wildcards: `*` (any run of characters) or `?` (one character). */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * Glob match without regexes, so no pattern can backtrack badly: the classic two-pointer algorithm that
 * remembers the last `*`, O(pattern × text) in the worst case and linear in practice. `*` matches any run of
 * characters (including `/`), `?` exactly one UTF-16 unit; there are no character classes or escapes.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    const pc = pattern.charCodeAt(p);
    if (p < pattern.length && (pc === 63 /* ? */ || pc === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (pc === 42 /* * */) {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** Exact names in a set, globs tried in turn. Both are kept in whatever form the caller normalised them to. */
export class NameMatcher {
  private readonly exact: ReadonlySet<string>;
  private readonly globs: readonly string[];

  constructor(patterns: readonly string[]) {
    this.exact = new Set(patterns.filter((p) => !isGlob(p)));
    this.globs = patterns.filter(isGlob);
  }

  matches(name: string): boolean {
    if (this.exact.has(name)) return true;
    for (const glob of this.globs) if (globMatch(glob, name)) return true;
    return false;
  }
}
