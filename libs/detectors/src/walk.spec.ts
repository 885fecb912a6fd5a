import { describe, expect, it } from '@jest/globals';
import type { Segment } from './json-path.js';
import { DETECTOR_LIMITS } from './limits.js';
import { scanArguments, scanCredentials } from './scan.js';
import { pathOf, walkStrings, type WalkOutcome } from './walk.js';

/**
 * `walkStrings` as it was before places replaced paths (every frame carried its own path array, copied from its
 * parent's): the reference the walk must agree with, visit for visit.
 */
function referenceWalk(
  value: unknown,
  visit: (text: string, key: string | undefined, path: readonly Segment[]) => boolean | void,
): WalkOutcome {
  const stack: Array<{ value: unknown; key: string | undefined; path: Segment[]; depth: number }> = [
    { value, key: undefined, path: [], depth: 0 },
  ];
  let nodes = 0;
  let total = 0;
  let limit: string | undefined;
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (++nodes > DETECTOR_LIMITS.maxNodes) {
      limit = `more than ${DETECTOR_LIMITS.maxNodes} values`;
      break;
    }
    const current = frame.value;
    if (typeof current === 'string') {
      let text = current;
      if (text.length > DETECTOR_LIMITS.maxStringLength) {
        text = text.slice(0, DETECTOR_LIMITS.maxStringLength);
        limit ??= `a string longer than ${DETECTOR_LIMITS.maxStringLength} characters`;
      }
      total += text.length;
      if (total > DETECTOR_LIMITS.maxTotalLength) {
        limit = `more than ${DETECTOR_LIMITS.maxTotalLength} characters of text`;
        break;
      }
      if (visit(text, frame.key, frame.path) === false) break;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (frame.depth >= DETECTOR_LIMITS.maxDepth) {
      limit ??= `nesting deeper than ${DETECTOR_LIMITS.maxDepth} levels`;
      continue;
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--)
        stack.push({ value: current[i], key: frame.key, path: [...frame.path, i], depth: frame.depth + 1 });
    } else if (
      Object.getPrototypeOf(current) === Object.prototype ||
      Object.getPrototypeOf(current) === null
    ) {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        stack.push({
          value: (current as Record<string, unknown>)[key],
          key,
          path: [...frame.path, key],
          depth: frame.depth + 1,
        });
      }
    }
  }
  return limit ? { complete: false, limit } : { complete: true };
}

/** Deterministic JSON-like values (xorshift, fixed seed): nested objects and arrays, odd keys, non-plain objects. */
function values(count: number): unknown[] {
  let state = 0x2545f491;
  const rand = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const KEYS = ['path', 'command', '', '0', '12', 'odd key', "q'uote", 'sql', 'message', '__proto__x'];
  const value = (level: number): unknown => {
    const pick = level > 6 ? rand(4) : rand(8);
    if (pick === 0) return `s${rand(100)}`;
    if (pick === 1) return rand(2) === 0 ? '../../etc/passwd' : 'rm -rf /; curl x | sh';
    if (pick === 2) return rand(3) === 0 ? null : rand(1000);
    if (pick === 3) return rand(2) === 0;
    if (pick === 4 || pick === 5) return Array.from({ length: rand(4) }, () => value(level + 1));
    if (pick === 6 && rand(4) === 0) return new Map([['k', 'hidden']]); // not a plain object: not read
    const out: Record<string, unknown> = rand(5) === 0 ? Object.create(null) : {};
    for (let k = rand(5); k > 0; k--) out[KEYS[rand(KEYS.length)]] = value(level + 1);
    return out;
  };
  return Array.from({ length: count }, () => value(0));
}

type Visit = [string, string | undefined, Segment[]];

function visitsOf(walk: 'new' | 'old', value: unknown, stopAfter = Infinity): [Visit[], WalkOutcome] {
  const seen: Visit[] = [];
  const outcome =
    walk === 'new'
      ? walkStrings(value, (text, key, place) => {
          seen.push([text, key, pathOf(place)]);
          return seen.length < stopAfter;
        })
      : referenceWalk(value, (text, key, path) => {
          seen.push([text, key, [...path]]);
          return seen.length < stopAfter;
        });
  return [seen, outcome];
}

describe('walkStrings agrees with the reference walk', () => {
  it('on generated values: every string, its key and its path, in order, and the outcome', () => {
    let strings = 0;
    for (const value of values(3000)) {
      const expected = visitsOf('old', value);
      expect(visitsOf('new', value)).toEqual(expected);
      strings += expected[0].length;
    }
    expect(strings).toBeGreaterThan(2000);
  });

  it('when the visitor stops the walk', () => {
    for (const value of values(500)) expect(visitsOf('new', value, 2)).toEqual(visitsOf('old', value, 2));
  });

  it.each([
    ['a bare string', 'x'],
    ['nesting past the depth limit', JSON.parse('{"a":'.repeat(70) + '"deep"' + '}'.repeat(70))],
    ['too many values', Array.from({ length: DETECTOR_LIMITS.maxNodes + 5 }, () => 'v')],
    ['a string past the length limit', { a: 'x'.repeat(DETECTOR_LIMITS.maxStringLength + 1), b: 'y' }],
    ['empty containers', { a: [], b: {}, c: [[], [{}]] }],
  ])('%s', (_name, value) => {
    expect(visitsOf('new', value)).toEqual(visitsOf('old', value));
  });
});

describe('the scans through places', () => {
  it('name the path of what they find, and share one empty result when nothing is found', () => {
    const found = scanArguments({ a: [{ b: 'x' }, { path: '../../etc/passwd' }] });
    expect(found.findings.map((f) => f.path)).toEqual(['$.a[1].path']);
    expect(scanCredentials({ k: ['ok', 'AKIAIOSFODNN7EXAMPLE'] }).findings.map((f) => f.path)).toEqual([
      '$.k[1]',
    ]);
    const nothing = scanArguments({ message: 'hello' });
    expect(nothing).toEqual({ findings: [], complete: true });
    expect(Object.isFrozen(nothing) && Object.isFrozen(nothing.findings)).toBe(true);
    expect(scanArguments({ message: 'hi' })).toBe(nothing);
  });
});
