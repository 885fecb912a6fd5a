/**
 * Bounds on what one scan reads. Scans are linear in their input (no regex here can backtrack
 * catastrophically), and these keep a hostile value from costing more than a few milliseconds. A scan that hits
 * one reports `complete: false`; callers that block on findings must treat that as "cannot tell" (fail closed).
 */
export const DETECTOR_LIMITS = {
  /** Nesting depth walked in a JSON value. */
  maxDepth: 64,
  /** Values (objects, arrays, scalars) visited in one scan. */
  maxNodes: 100_000,
  /** Characters of one string examined; longer strings are examined up to this length. */
  maxStringLength: 1_000_000,
  /** Characters examined across all strings of one scan. */
  maxTotalLength: 8_000_000,
  /** Default cap on findings returned by one scan. */
  maxFindings: 100,
} as const;
