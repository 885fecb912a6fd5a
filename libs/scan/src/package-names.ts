import { PackageURL } from 'packageurl-js';
import semver from 'semver';
import type { Ecosystem, ExtractedPackage, PackageOrigin, VersionConfidence } from './types.js';

/** npm's rules for new package names (lowercase, URL-safe, optional scope, ≤214 characters). */
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** PEP 508 project names. */
const PYPI_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isNpmName(name: string): boolean {
  return name.length <= 214 && NPM_NAME.test(name);
}

export function isPypiName(name: string): boolean {
  return name.length <= 200 && PYPI_NAME.test(name);
}

/** PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The purl of a package; the version is included only when it is exact. */
export function purlOf(ecosystem: Ecosystem, name: string, version: string | undefined): string {
  if (ecosystem === 'npm') {
    const slash = name.startsWith('@') ? name.indexOf('/') : -1;
    const namespace = slash > 0 ? name.slice(0, slash) : undefined;
    const base = slash > 0 ? name.slice(slash + 1) : name;
    return new PackageURL('npm', namespace, base, version).toString();
  }
  if (ecosystem === 'pypi') return new PackageURL('pypi', undefined, name, version).toString();
  const slash = name.lastIndexOf('/');
  const namespace = slash > 0 ? name.slice(0, slash) : undefined;
  return new PackageURL('docker', namespace, name.slice(slash + 1), version).toString();
}

export function makePackage(
  ecosystem: Ecosystem,
  name: string,
  version: string | undefined,
  confidence: VersionConfidence,
  origin: PackageOrigin,
): ExtractedPackage {
  return {
    ecosystem,
    name,
    ...(version !== undefined ? { version } : {}),
    confidence,
    purl: purlOf(ecosystem, name, confidence === 'pinned' ? version : undefined),
    origin,
  };
}

/** Classifies an npm version specifier: exact semver, a semver range, or a dist-tag/nothing. */
export function npmConfidence(spec: string | undefined): { version?: string; confidence: VersionConfidence } {
  if (spec === undefined || spec === '' || spec === 'latest' || spec === '*')
    return { confidence: 'floating' };
  const exact = semver.valid(spec, { loose: false });
  if (exact) return { version: exact, confidence: 'pinned' };
  if (semver.validRange(spec)) return { version: spec, confidence: 'range' };
  // Any other dist-tag (`next`, `beta`) moves like latest.
  return { version: spec, confidence: 'floating' };
}

/** Removes duplicates by (ecosystem, name, version, confidence), keeping the first origin. */
export function dedupePackages(packages: ExtractedPackage[]): ExtractedPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => {
    const key = `${p.ecosystem}\u0000${p.name}\u0000${p.version ?? ''}\u0000${p.confidence}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
