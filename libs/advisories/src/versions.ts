import pep440 from '@renovatebot/pep440';
import semver from 'semver';

/** Ecosystems whose versions we compare exactly. Anything else never matches (no guessing). */
export type VersionScheme = 'npm' | 'pypi';

/** OSV ecosystem names → our ecosystem ids. */
export const OSV_ECOSYSTEMS: Record<string, VersionScheme> = { npm: 'npm', PyPI: 'pypi' };

/** A total order on one ecosystem's valid versions; `undefined` for a string that is not a version there. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): number | undefined {
  if (scheme === 'npm') {
    const x = semver.parse(a);
    const y = semver.parse(b);
    return x && y ? semver.compare(x, y) : undefined;
  }
  if (!pep440.valid(a) || !pep440.valid(b)) return undefined;
  return Math.sign(pep440.compare(a, b));
}

export function isValidVersion(scheme: VersionScheme, version: string): boolean {
  return scheme === 'npm' ? semver.valid(version) !== null : pep440.valid(version) !== null;
}

/** One OSV range event. `introduced: "0"` means "since the first version". */
export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface AffectedRange {
  type: 'SEMVER' | 'ECOSYSTEM' | 'GIT';
  events: RangeEvent[];
}

/**
 * Whether `version` falls in an OSV range, following the OSV schema's evaluation: events sorted by version,
 * `introduced` opens, `fixed` closes (exclusive), `last_affected` closes (inclusive), `limit` caps. GIT ranges
 * and events whose version does not parse in the ecosystem never match.
 */
export function inRange(scheme: VersionScheme, version: string, range: AffectedRange): boolean {
  if (range.type === 'GIT' || !isValidVersion(scheme, version)) return false;
  const keyed = range.events
    .map((event) => ({ event, at: eventVersion(event) }))
    .filter(({ at }) => at === '0' || isValidVersion(scheme, at));
  keyed.sort((a, b) => (a.at === '0' ? -1 : b.at === '0' ? 1 : compareVersions(scheme, a.at, b.at)!));
  const cmp = (at: string) => (at === '0' ? 1 : compareVersions(scheme, version, at)!);
  let affected = false;
  for (const { event, at } of keyed) {
    if (event.introduced !== undefined) {
      if (cmp(at) >= 0) affected = true;
    } else if (event.fixed !== undefined) {
      if (cmp(at) >= 0) affected = false;
    } else if (event.last_affected !== undefined) {
      if (cmp(at) > 0) affected = false;
    }
  }
  const limits = keyed.filter(({ event }) => event.limit !== undefined);
  if (affected && limits.length && !limits.some(({ at }) => at === '*' || cmp(at) < 0)) return false;
  return affected;
}

function eventVersion(event: RangeEvent): string {
  return event.introduced ?? event.fixed ?? event.last_affected ?? event.limit ?? '';
}

/** Whether `version` equals one of the listed versions (PEP 440 equality for PyPI: `1.0` == `1.0.0`). */
export function inVersions(scheme: VersionScheme, version: string, versions: readonly string[]): boolean {
  return versions.some((v) => v === version || compareVersions(scheme, v, version) === 0);
}

/** The lowest `fixed` version above `version` in the given ranges, if any (the upgrade target). */
export function fixedVersionFor(
  scheme: VersionScheme,
  version: string,
  ranges: readonly AffectedRange[],
): string | undefined {
  let best: string | undefined;
  for (const range of ranges) {
    for (const event of range.events) {
      const fixed = event.fixed;
      if (fixed === undefined || !isValidVersion(scheme, fixed)) continue;
      if ((compareVersions(scheme, fixed, version) ?? -1) <= 0) continue;
      if (best === undefined || compareVersions(scheme, fixed, best)! < 0) best = fixed;
    }
  }
  return best;
}
