/** Ecosystems the scanner extracts and matches advisories for (OSV ecosystem names in `osvEcosystem`). */
export const ECOSYSTEMS = ['npm', 'pypi', 'docker'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/**
 * How sure we are which version runs:
 * - `pinned`: one exact version (a lockfile entry, `pkg@1.2.3`, `pkg==1.2.3`, an image digest);
 * - `range`: a range or a mutable tag (`pkg@^1.2`, `pkg>=1`, `image:1.2`), resolved at launch time;
 * - `floating`: no version at all or `latest` — whatever the registry serves today.
 */
export const VERSION_CONFIDENCES = ['pinned', 'range', 'floating'] as const;
export type VersionConfidence = (typeof VERSION_CONFIDENCES)[number];

/** Where a package was found. */
export interface PackageOrigin {
  kind: 'command' | 'lockfile';
  /** `command`: the launcher (`npx`, `uvx`, `docker`, …); `lockfile`: the file's base name. */
  via: string;
  /** `lockfile`: the file path as given to the parser. */
  path?: string;
}

export interface ExtractedPackage {
  ecosystem: Ecosystem;
  /** Canonical name: npm as written (`@scope/name`), PyPI normalised per PEP 503, docker `registry/repo`. */
  name: string;
  /** Exact version when `confidence` is `pinned`; the range or tag for `range`; absent for `floating`. */
  version?: string;
  confidence: VersionConfidence;
  /** Package URL (purl spec); without a version unless pinned. */
  purl: string;
  origin: PackageOrigin;
}
