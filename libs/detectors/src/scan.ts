import { argumentFinding, ARGUMENT_KINDS, detectInArgument, type ArgumentKind } from './arguments.js';
import { patternsFor, type TextPattern } from './credentials.js';
import { formatPath } from './json-path.js';
import { DETECTOR_LIMITS } from './limits.js';
import { findMatches } from './prefilter.js';
import type { Finding, ScanOptions, ScanResult, Severity } from './types.js';
import { pathOf, walkStrings, type WalkPlace } from './walk.js';

/** The options of a scan given none: one frozen object, not a `{}` per call (a default parameter's). */
export const NO_OPTIONS: ScanOptions = Object.freeze({});

/** The argument scan's default kinds, made once (a Set per scanned call before; only `has` is asked of it). */
const EVERY_ARGUMENT_KIND: ReadonlySet<string> = new Set<string>(ARGUMENT_KINDS);

/**
 * Scans request arguments (any JSON value) for shell injection, path traversal, secret locations, destructive
 * SQL and exfiltration-shaped payloads. Each finding names the JSON path of the string and a value-free reason.
 *
 * @example
 * scanArguments({ path: '../../etc/passwd' }).findings
 * // [{ kind: 'path_traversal', category: 'argument', severity: 'high', path: '$.path', reason: 'climbs 2 directories with ../' }]
 */
export function scanArguments(value: unknown, options: ScanOptions = NO_OPTIONS): ScanResult {
  const wanted = options.kinds ? new Set(options.kinds) : EVERY_ARGUMENT_KIND;
  const max = options.maxFindings ?? DETECTOR_LIMITS.maxFindings;
  const findings: Finding[] = [];
  // One report function per scan (not one per string): it reads the string being visited from these two.
  let place: WalkPlace | undefined;
  let path: string | undefined;
  const report = (kind: ArgumentKind, severity: Severity, reason: string) => {
    if (!wanted.has(kind) || findings.length >= max) return;
    findings.push(argumentFinding(kind, severity, (path ??= formatPath(pathOf(place!))), reason));
  };
  const outcome = walkStrings(value, (text, key, at) => {
    place = at;
    path = undefined;
    detectInArgument(text, key, report);
    return findings.length < max;
  });
  return result(findings, outcome);
}

/**
 * Scans any JSON value for credentials (cloud keys, tokens, private keys, JWTs, passwords in connection strings…)
 * and personal data (card numbers that pass Luhn, US SSNs, IBANs that pass mod-97; emails on request).
 */
export function scanCredentials(value: unknown, options: ScanOptions = NO_OPTIONS): ScanResult {
  const patterns = patternsFor(options.kinds);
  const max = options.maxFindings ?? DETECTOR_LIMITS.maxFindings;
  const findings: Finding[] = [];
  const outcome = walkStrings(value, (text, _key, at) => {
    const matches = findMatches(text, patterns);
    if (matches.length > 0) addFindings(findings, matches, formatPath(pathOf(at)), max);
    return findings.length < max;
  });
  return result(findings, outcome);
}

/**
 * `text` with every credential and personal-data match replaced by `[REDACTED:<kind>]`, or by what `marker`
 * makes of the kind (the ledger's scrubber writes `[redacted:<kind>]`). `kinds` lists each kind found once, in
 * text order.
 */
export function redactText(
  text: string,
  options: Pick<ScanOptions, 'kinds'> & { marker?: (kind: string) => string } = NO_OPTIONS,
): { text: string; count: number; kinds: string[] } {
  const matches = findMatches(text, patternsFor(options.kinds));
  if (matches.length === 0) return { text, count: 0, kinds: [] };
  return {
    text: applyRedactions(text, matches, options.marker),
    count: matches.length,
    kinds: kindsOf(matches),
  };
}

/**
 * A copy of a JSON value with every credential and personal-data match in its strings replaced by
 * `[REDACTED:<kind>]`; the value's shape never changes. Values nested deeper than `DETECTOR_LIMITS.maxDepth`
 * are left as they are and make the result incomplete.
 */
export function redactCredentials<T>(
  value: T,
  options: ScanOptions = NO_OPTIONS,
): { value: T; findings: Finding[]; count: number; complete: boolean } {
  const patterns = patternsFor(options.kinds);
  const findings: Finding[] = [];
  let count = 0;
  let complete = true;
  const copy = (node: unknown, segments: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const matches = findMatches(node, patterns);
      if (matches.length === 0) return node;
      count += matches.length;
      addFindings(
        findings,
        matches,
        formatPath(segments),
        options.maxFindings ?? DETECTOR_LIMITS.maxFindings,
      );
      return applyRedactions(node, matches);
    }
    if (node === null || typeof node !== 'object') return node;
    if (segments.length >= DETECTOR_LIMITS.maxDepth) {
      complete = false;
      return node;
    }
    if (Array.isArray(node)) return node.map((item, i) => copy(item, [...segments, i]));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(node)) out[key] = copy(item, [...segments, key]);
    return out;
  };
  return { value: copy(value, []) as T, findings, count, complete };
}

/** Replaces the spans (sorted, disjoint) of `text` by their markers. */
export function applyRedactions(
  text: string,
  matches: readonly { start: number; end: number; pattern: TextPattern }[],
  marker: (kind: string) => string = (kind) => `[REDACTED:${kind}]`,
): string {
  let out = '';
  let at = 0;
  for (const match of matches) {
    out += text.slice(at, match.start) + marker(match.pattern.kind);
    at = match.end;
  }
  return out + text.slice(at);
}

export function addFindings(
  findings: Finding[],
  matches: readonly { pattern: TextPattern }[],
  path: string,
  max: number,
): void {
  const seen = new Set<string>();
  for (const { pattern } of matches) {
    if (seen.has(pattern.kind) || findings.length >= max) continue;
    seen.add(pattern.kind);
    findings.push({
      kind: pattern.kind,
      category: pattern.category,
      severity: pattern.severity,
      path,
      reason: pattern.label,
    });
  }
}

function kindsOf(matches: readonly { pattern: TextPattern }[]): string[] {
  return [...new Set(matches.map((m) => m.pattern.kind))];
}

/** A complete scan that found nothing (most of them): one frozen result, not an object and an array per scan. */
const NOTHING_FOUND: ScanResult = Object.freeze({ findings: Object.freeze([]), complete: true });

function result(findings: Finding[], outcome: { complete: boolean; limit?: string }): ScanResult {
  if (outcome.complete && findings.length === 0) return NOTHING_FOUND;
  return outcome.complete
    ? { findings, complete: true }
    : { findings, complete: false, limit: outcome.limit };
}
