import { ExtractionError } from './errors.js';

/** Bounds on one lockfile: a real monorepo lockfile is a few MiB and nests a handful of levels. */
export const LOCKFILE_LIMITS = {
  maxBytes: 32 * 1024 * 1024,
  maxDepth: 64,
  maxPackages: 200_000,
} as const;

/** Keys that would reach Object.prototype if a consumer ever assigned them: refused wherever they appear. */
const HOSTILE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walks a parsed document iteratively (no recursion, so depth cannot blow the stack), refusing nesting deeper
 * than `maxDepth` and prototype-polluting keys anywhere.
 */
export function checkTree(value: unknown, file: string, maxDepth: number = LOCKFILE_LIMITS.maxDepth): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) {
      throw new ExtractionError('LOCKFILE_TOO_DEEP', `${file}: nested deeper than ${maxDepth} levels`);
    }
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(node)) {
      if (HOSTILE_KEYS.has(key)) {
        throw new ExtractionError('LOCKFILE_HOSTILE_KEY', `${file}: refused key ${JSON.stringify(key)}`);
      }
      stack.push([(node as Record<string, unknown>)[key], depth + 1]);
    }
  }
}

/**
 * Options for the `yaml` parser on a lockfile: alias expansion bounded (no "billion laughs"); no pretty errors,
 * which give every error of the document its line and a context line, each counted from the file's start
 * (quadratic: 64 KB of `}` took 3.6 s of CPU; the one error reported gets its position from `positionOf`); and no
 * warnings, which the parser would print on stderr with the offending text (`%%%…` × 1 MB as an unknown directive).
 */
export const LOCKFILE_YAML = { maxAliasCount: 100, prettyErrors: false, logLevel: 'error' } as const;

/** Parses with `parse`, turning a parser's stack overflow into a clear depth refusal and syntax errors into MALFORMED. */
export function parseBounded<T>(file: string, text: string, parse: (text: string) => T): T {
  if (Buffer.byteLength(text) > LOCKFILE_LIMITS.maxBytes) {
    throw new ExtractionError('LOCKFILE_TOO_LARGE', `${file}: larger than ${LOCKFILE_LIMITS.maxBytes} bytes`);
  }
  let parsed: T;
  try {
    parsed = parse(text);
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    // JSON.parse and the YAML parser recurse: a stack overflow is nesting, whatever the parser wraps it in.
    if (error instanceof RangeError || /call stack/i.test(String((error as Error)?.message))) {
      throw new ExtractionError('LOCKFILE_TOO_DEEP', `${file}: nested too deeply to parse`);
    }
    throw new ExtractionError('LOCKFILE_MALFORMED', `${file}: ${firstLine(error)}${positionOf(error, text)}`);
  }
  checkTree(parsed, file);
  return parsed;
}

export function checkCount(file: string, count: number): void {
  if (count > LOCKFILE_LIMITS.maxPackages) {
    throw new ExtractionError(
      'LOCKFILE_TOO_MANY_PACKAGES',
      `${file}: more than ${LOCKFILE_LIMITS.maxPackages} packages`,
    );
  }
}

/** ` at line L, column C` for a parser error that gives its offset (`yaml`'s `pos`), counted once. */
function positionOf(error: unknown, text: string): string {
  const pos = (error as { pos?: unknown } | null)?.pos;
  if (!Array.isArray(pos) || typeof pos[0] !== 'number' || pos[0] < 0 || pos[0] > text.length) return '';
  const before = text.slice(0, pos[0]);
  let line = 1;
  for (let at = before.indexOf('\n'); at !== -1; at = before.indexOf('\n', at + 1)) line++;
  return ` at line ${line}, column ${pos[0] - before.lastIndexOf('\n')}`;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 200);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
