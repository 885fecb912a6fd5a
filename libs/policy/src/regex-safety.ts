/**
 * A heuristic guard against regular expressions prone to catastrophic (exponential or high-polynomial)
 * backtracking. It parses the pattern into groups, alternatives and quantified atoms and rejects:
 *
 * 1. **Nested quantifiers**: a group repeated more than once (`+`, `*`, `{n,}`, `{2,5}`, `{3}`) that contains a
 *    variable-length repetition (`+`, `*`, `{n,}`, `{2,5}`), e.g. `(a+)+`, `(.*)*`, `(\w+\s?)*`, `(a{1,3}){2}`.
 * 2. **Overlapping alternation under repetition**: a repeated group whose alternatives can start with the same
 *    character (or may be empty), e.g. `(a|a)*`, `(a|ab)+`, `(\w|\d)+`, `(x|)*`. `(foo|bar)+` passes.
 *
 * It is deliberately conservative (some harmless patterns are refused; rewrite them with distinct branches or
 * atomic structure) and incomplete: polynomial blow-ups from adjacent overlapping quantifiers such as
 * `.*a.*a.*` are not detected. Those are bounded instead by `LIMITS.maxRegexInput`: a regex never runs on a
 * string longer than 10,000 characters.
 */
export function regexRisk(source: string, flags: string): string | undefined {
  let parsed: Group;
  try {
    parsed = new Parser(source).parseRoot();
  } catch {
    return 'pattern is too complex to analyse';
  }
  return checkGroup(parsed, flags);
}

interface Quantifier {
  readonly min: number;
  readonly max: number;
}

interface Atom {
  readonly kind: 'atom';
  /** Source text of a single-character matcher: a literal, an escape, a class or `.`. */
  readonly text: string;
  quantifier?: Quantifier;
}

interface Group {
  readonly kind: 'group';
  readonly alternatives: Node[][];
  readonly lookaround: boolean;
  quantifier?: Quantifier;
}

/** Assertions (`^`, `$`, `\b`) consume nothing. */
interface Assertion {
  readonly kind: 'assertion';
  quantifier?: Quantifier;
}

/** Back-references match whatever a group matched: nothing we can reason about. */
interface Backreference {
  readonly kind: 'backreference';
  quantifier?: Quantifier;
}

type Node = Atom | Group | Assertion | Backreference;

class Parser {
  private at = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parseRoot(): Group {
    const group = this.parseAlternatives(false);
    if (this.at < this.src.length) throw new Error('unbalanced )');
    return group;
  }

  private parseAlternatives(lookaround: boolean): Group {
    if (++this.depth > 100) throw new Error('too deep');
    const alternatives: Node[][] = [[]];
    while (this.at < this.src.length) {
      const ch = this.src[this.at];
      if (ch === ')') break;
      if (ch === '|') {
        alternatives.push([]);
        this.at++;
        continue;
      }
      const node = this.parseTerm();
      const quantifier = this.parseQuantifier();
      if (quantifier) node.quantifier = quantifier;
      alternatives[alternatives.length - 1].push(node);
    }
    this.depth--;
    return { kind: 'group', alternatives, lookaround };
  }

  private parseTerm(): Node {
    const src = this.src;
    const ch = src[this.at];
    if (ch === '(') {
      this.at++;
      let lookaround = false;
      if (src.startsWith('?:', this.at)) this.at += 2;
      else if (src.startsWith('?=', this.at) || src.startsWith('?!', this.at)) {
        this.at += 2;
        lookaround = true;
      } else if (src.startsWith('?<=', this.at) || src.startsWith('?<!', this.at)) {
        this.at += 3;
        lookaround = true;
      } else if (src.startsWith('?<', this.at)) this.at = src.indexOf('>', this.at) + 1;
      const group = this.parseAlternatives(lookaround);
      if (src[this.at] !== ')') throw new Error('unclosed group');
      this.at++;
      return group;
    }
    if (ch === '[') {
      const start = this.at++;
      if (src[this.at] === '^') this.at++;
      if (src[this.at] === ']') this.at++;
      while (this.at < src.length && src[this.at] !== ']') this.at += src[this.at] === '\\' ? 2 : 1;
      this.at++;
      return { kind: 'atom', text: src.slice(start, this.at) };
    }
    if (ch === '\\') return this.parseEscape();
    if (ch === '^' || ch === '$') {
      this.at++;
      return { kind: 'assertion' };
    }
    const code = src.codePointAt(this.at) as number;
    const text = String.fromCodePoint(code);
    this.at += text.length;
    return { kind: 'atom', text };
  }

  private parseEscape(): Node {
    const src = this.src;
    const start = this.at;
    const next = src[this.at + 1];
    this.at += 2;
    if (next === 'b' || next === 'B') return { kind: 'assertion' };
    if (next >= '1' && next <= '9') {
      while (/\d/.test(src[this.at] ?? '')) this.at++;
      return { kind: 'backreference' };
    }
    if (next === 'k' && src[this.at] === '<') {
      this.at = src.indexOf('>', this.at) + 1;
      return { kind: 'backreference' };
    }
    if ((next === 'p' || next === 'P' || next === 'u') && src[this.at] === '{') {
      this.at = src.indexOf('}', this.at) + 1;
    } else if (next === 'u') this.at += 4;
    else if (next === 'x') this.at += 2;
    else if (next === 'c') this.at += 1;
    return { kind: 'atom', text: src.slice(start, this.at) };
  }

  private parseQuantifier(): Quantifier | undefined {
    const src = this.src;
    const ch = src[this.at];
    let quantifier: Quantifier | undefined;
    if (ch === '*') quantifier = { min: 0, max: Infinity };
    else if (ch === '+') quantifier = { min: 1, max: Infinity };
    else if (ch === '?') quantifier = { min: 0, max: 1 };
    if (quantifier) this.at++;
    else if (ch === '{') {
      const braces = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(this.at, this.at + 24));
      if (!braces) return undefined;
      const min = Number(braces[1]);
      const max = braces[2] === undefined ? min : braces[3] === '' ? Infinity : Number(braces[3]);
      quantifier = { min, max };
      this.at += braces[0].length;
    } else return undefined;
    if (src[this.at] === '?') this.at++;
    return quantifier;
  }
}

const repeats = (q: Quantifier | undefined): boolean => q !== undefined && q.max > 1;
const varies = (q: Quantifier | undefined): boolean => q !== undefined && q.max > 1 && q.max !== q.min;

function checkGroup(group: Group, flags: string, insideRepeat = false): string | undefined {
  const repeated = repeats(group.quantifier);
  if (
    repeated &&
    group.alternatives.some((alt) => alt.some(containsVariableRepeat)) &&
    !group.alternatives.every((alt) => hasDisjointSeparator(alt, flags))
  ) {
    return 'nested quantifier: a repeated group contains a variable repetition (like (a+)+)';
  }
  // Ambiguity anywhere inside a repetition multiplies across iterations: (x(a|a)y)+ is as bad as (a|a)+.
  if (
    (repeated || insideRepeat) &&
    group.alternatives.length > 1 &&
    alternativesOverlap(group.alternatives, flags)
  ) {
    return 'a repeated group has alternatives that can match the same text (like (a|a)*)';
  }
  for (const alt of group.alternatives) {
    for (const node of alt) {
      if (node.kind !== 'group') continue;
      const problem = checkGroup(node, flags, repeated || insideRepeat);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * True when every way of splitting a string into iterations is forced: the alternative starts (or ends) with a
 * fixed single-character atom that none of its variable repetitions can match, as `_` in `(?:_[a-z]+)*`.
 */
function hasDisjointSeparator(alternative: Node[], flags: string): boolean {
  const variable: Atom[] = [];
  const collect = (node: Node): boolean => {
    if (node.kind === 'group') {
      if (varies(node.quantifier)) return false;
      return node.alternatives.every((alt) => alt.every(collect));
    }
    if (node.kind === 'atom' && varies(node.quantifier)) variable.push(node);
    return node.kind !== 'backreference' || !varies(node.quantifier);
  };
  if (!alternative.every(collect)) return false;
  const consuming = alternative.filter((node) => node.kind !== 'assertion');
  const ends = [consuming[0], consuming[consuming.length - 1]];
  return ends.some((node) => {
    if (
      node?.kind !== 'atom' ||
      (node.quantifier !== undefined && node.quantifier.min !== node.quantifier.max)
    )
      return false;
    if (node.quantifier?.min === 0) return false;
    const separator = charSet(node.text, flags);
    return variable.every((atom) => {
      const set = charSet(atom.text, flags);
      return set !== 'any' && separator !== 'any' && !set.some((hit, k) => hit && separator[k]);
    });
  });
}

function containsVariableRepeat(node: Node): boolean {
  if (varies(node.quantifier)) return true;
  return node.kind === 'group' && node.alternatives.some((alt) => alt.some(containsVariableRepeat));
}

/** Characters used to approximate what an atom can match: all of ASCII plus a few non-ASCII samples. */
const SAMPLES: readonly string[] = [
  ...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)),
  'é',
  'а',
  'ß',
  '\u2028',
  '\u00a0',
  '😀',
];

type FirstSet = boolean[] | 'any' | 'empty';

function alternativesOverlap(alternatives: Node[][], flags: string): boolean {
  const sets = alternatives.map((alt) => firstSet(alt, flags));
  for (let i = 0; i < sets.length; i++) {
    const a = sets[i];
    if (a === 'any' || a === 'empty') return true;
    for (let j = i + 1; j < sets.length; j++) {
      const b = sets[j];
      if (b === 'any' || b === 'empty' || a.some((hit, k) => hit && b[k])) return true;
    }
  }
  return false;
}

function firstSet(alternative: Node[], flags: string): FirstSet {
  for (const node of alternative) {
    if (node.kind === 'assertion') continue;
    if (node.kind === 'backreference') return 'any';
    if (node.quantifier?.min === 0) return 'any';
    if (node.kind === 'group') {
      if (node.lookaround) return 'any';
      const inner = node.alternatives.map((alt) => firstSet(alt, flags));
      if (inner.some((s) => s === 'any' || s === 'empty')) return 'any';
      return (inner as boolean[][]).reduce((acc, s) => acc.map((hit, k) => hit || s[k]));
    }
    return charSet(node.text, flags);
  }
  return 'empty';
}

const charSets = new Map<string, boolean[] | 'any'>();

/** Which sample characters a single-character matcher accepts. */
function charSet(text: string, flags: string): boolean[] | 'any' {
  const cacheKey = `${flags}/${text}`;
  let set = charSets.get(cacheKey);
  if (set === undefined) {
    try {
      const matcher = new RegExp(`^(?:${text})$`, flags.replace(/[gy]/g, ''));
      set = SAMPLES.map((sample) => matcher.test(sample));
    } catch {
      set = 'any';
    }
    if (charSets.size > 10_000) charSets.clear();
    charSets.set(cacheKey, set);
  }
  return set;
}
