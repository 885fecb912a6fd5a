import { DETECTOR_LIMITS } from './limits.js';
import type { Segment } from './json-path.js';

export interface WalkOutcome {
  readonly complete: boolean;
  readonly limit?: string;
}

/** Every walk that ran to the end returns this one object. */
const COMPLETE: WalkOutcome = Object.freeze({ complete: true });

/**
 * Where a visited string sits: its segment under its parent's place. A visitor that needs the path asks
 * {@link pathOf}; a walk no longer spells the path of every value it passes (an array per value, copied from its
 * parent's), most of which nobody reads.
 */
export interface WalkPlace {
  readonly parent: WalkPlace | undefined;
  /** The member name or array index under `parent`; undefined for the walked value itself. */
  readonly segment: Segment | undefined;
}

/** The path of a place, from the walked value down: `['a', 0, 'b']` for `value.a[0].b`. */
export function pathOf(place: WalkPlace): Segment[] {
  const segments: Segment[] = [];
  for (let at: WalkPlace | undefined = place; at?.segment !== undefined; at = at.parent)
    segments.push(at.segment);
  return segments.reverse();
}

interface Frame extends WalkPlace {
  readonly value: unknown;
  /** The member name the value sits under (for array elements, the array's). */
  readonly key: string | undefined;
  readonly depth: number;
}

/**
 * Visits every string of a JSON value (member values and array elements), with the member name it sits under and
 * its place (the path on demand, {@link pathOf}), iteratively (no recursion, so depth cannot overflow the stack),
 * within `DETECTOR_LIMITS`. Only own enumerable properties of plain objects and arrays are read.
 */
export function walkStrings(
  value: unknown,
  visit: (text: string, key: string | undefined, place: WalkPlace) => boolean | void,
): WalkOutcome {
  const stack: Frame[] = [{ value, key: undefined, parent: undefined, segment: undefined, depth: 0 }];
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
      if (visit(text, frame.key, frame) === false) break;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (frame.depth >= DETECTOR_LIMITS.maxDepth) {
      limit ??= `nesting deeper than ${DETECTOR_LIMITS.maxDepth} levels`;
      continue;
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], key: frame.key, parent: frame, segment: i, depth: frame.depth + 1 });
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
          parent: frame,
          segment: key,
          depth: frame.depth + 1,
        });
      }
    }
  }
  return limit ? { complete: false, limit } : COMPLETE;
}
