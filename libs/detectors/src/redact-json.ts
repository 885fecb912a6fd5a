import { patternsFor } from './credentials.js';
import { formatPath, type Segment } from './json-path.js';
import { DETECTOR_LIMITS } from './limits.js';
import { findMatches, mayMatch } from './prefilter.js';
import { addFindings, applyRedactions, NO_OPTIONS } from './scan.js';
import type { Finding, ScanOptions } from './types.js';

/** The findings of a text with no anchor in it: one frozen empty list. */
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

export interface RedactJsonResult {
  /** The JSON text with matched string values replaced; byte for byte the input when `count` is 0. */
  readonly text: string;
  readonly findings: readonly Finding[];
  /** Matches replaced. */
  readonly count: number;
}

/**
 * Redacts credentials and personal data inside the string values of a JSON text **without re-serialising it**:
 * only the string literals that held a match are rewritten (as `JSON.stringify` of the redacted string); every
 * other byte (numbers, big integers, key order, whitespace, escapes) stays as it was. The result is valid JSON
 * whenever the input was, so a redacted JSON-RPC response stays a valid response to the same id.
 *
 * Member names are not scanned. The input must be valid JSON (parse it first); the walk is iterative and
 * linear in the text, so nesting depth costs nothing.
 */
export function redactJson(text: string, options: ScanOptions = NO_OPTIONS): RedactJsonResult {
  const patterns = patternsFor(options.kinds);
  const max = options.maxFindings ?? DETECTOR_LIMITS.maxFindings;
  // Without escapes every string value is a substring of the text: no anchor in the text, no match in any value.
  if (!text.includes('\\') && !mayMatch(text, patterns)) return { text, findings: NO_FINDINGS, count: 0 };
  const findings: Finding[] = [];
  const pieces: string[] = [];
  let copiedTo = 0;
  let count = 0;

  // Containers being walked: for objects, the current member name (undefined while a name is expected).
  const kinds: Array<'o' | 'a'> = [];
  const keys: Array<string | undefined> = [];
  const indices: number[] = [];
  const pathOf = (): string => {
    const segments: Segment[] = [];
    for (let d = 0; d < kinds.length; d++) segments.push(kinds[d] === 'a' ? indices[d] : (keys[d] ?? ''));
    return formatPath(segments);
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const literal = text.slice(i, end + 1);
      const top = kinds.length - 1;
      const isKey = top >= 0 && kinds[top] === 'o' && keys[top] === undefined;
      const value = literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
      if (isKey) {
        keys[top] = value;
      } else {
        const matches = findMatches(value, patterns);
        if (matches.length > 0) {
          count += matches.length;
          addFindings(findings, matches, pathOf(), max);
          pieces.push(text.slice(copiedTo, i), JSON.stringify(applyRedactions(value, matches)));
          copiedTo = end + 1;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      kinds.push(c === 0x7b ? 'o' : 'a');
      keys.push(undefined);
      indices.push(0);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      kinds.pop();
      keys.pop();
      indices.pop();
    } else if (c === 0x2c /* , */) {
      const top = kinds.length - 1;
      if (top >= 0) {
        if (kinds[top] === 'a') indices[top]++;
        else keys[top] = undefined;
      }
    }
    i++;
  }
  if (count === 0) return { text, findings, count };
  pieces.push(text.slice(copiedTo));
  return { text: pieces.join(''), findings, count };
}

/** Index of the closing quote of the JSON string literal opening at `start` (also the runtime's frame reader's). */
export function stringEnd(text: string, start: number): number {
  let j = start;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) return text.length - 1;
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}
