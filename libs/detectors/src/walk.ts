import { DETECTOR_LIMITS } from './limits.js';
import type { Segment } from './json-path.js';

export interface WalkOutcome {
  complete: boolean;
  limit?: string;
}

/**
 * Visits every string of a JSON value (member values and array elements; member names when `keys`), with the
 * member name it sits under and its path, iteratively (no recursion, so depth cannot overflow the stack), within
 * `DETECTOR_LIMITS`. Only own enumerable properties of plain objects and arrays are read.
 */
export function walkStrings(
  value: unknown,
  visit: (text: string, key: string | undefined, path: readonly Segment[]) => boolean | void,
): WalkOutcome {
  interface Frame {
    value: unknown;
    key: string | undefined;
    path: Segment[];
    depth: number;
  }
  const stack: Frame[] = [{ value, key: undefined, path: [], depth: 0 }];
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
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], key: frame.key, path: [...frame.path, i], depth: frame.depth + 1 });
      }
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
