import type { Advisory } from './osv.js';
import { fixedVersionFor, inRange, inVersions, type VersionScheme } from './versions.js';

/** A package version to look up. `version` is exact; ranges and floating versions are not looked up. */
export interface PackageQuery {
  ecosystem: VersionScheme;
  name: string;
  version: string;
}

export interface AdvisoryMatch {
  advisory: Advisory;
  /** The lowest fixed version above the queried one, when the advisory names one. */
  fixed_version?: string;
}

/**
 * Where advisories come from: the PostgreSQL database `agent-bom db import` fills, or an OSV directory/zip read
 * into memory for offline endpoint scans. A source only answers "which advisories name this package"; matching
 * versions is done once, here, so every source means the same thing.
 */
export interface AdvisorySource {
  readonly description: string;
  /** Advisories naming each (ecosystem, name) key `${ecosystem}:${name}`. */
  candidates(keys: readonly string[]): Promise<Map<string, Advisory[]>>;
}

export const packageKey = (ecosystem: string, name: string) => `${ecosystem}:${name}`;

/** The advisories that affect `query`; withdrawn advisories never match. */
export function matchAdvisory(advisory: Advisory, query: PackageQuery): AdvisoryMatch | undefined {
  if (advisory.withdrawn) return undefined;
  for (const affected of advisory.affected) {
    if (affected.ecosystem !== query.ecosystem || affected.name !== query.name) continue;
    const hit =
      inVersions(query.ecosystem, query.version, affected.versions) ||
      affected.ranges.some((range) => inRange(query.ecosystem, query.version, range));
    if (hit) {
      const fixed = fixedVersionFor(query.ecosystem, query.version, affected.ranges);
      return { advisory, ...(fixed ? { fixed_version: fixed } : {}) };
    }
  }
  return undefined;
}

/** Looks every query up in `source` (one round trip) and returns the matches per query, in order. */
export async function matchPackages(
  source: AdvisorySource,
  queries: readonly PackageQuery[],
): Promise<AdvisoryMatch[][]> {
  const keys = [...new Set(queries.map((q) => packageKey(q.ecosystem, q.name)))];
  const byKey = await source.candidates(keys);
  return queries.map((query) =>
    (byKey.get(packageKey(query.ecosystem, query.name)) ?? [])
      .map((advisory) => matchAdvisory(advisory, query))
      .filter((m): m is AdvisoryMatch => m !== undefined),
  );
}

/** An in-memory source (offline scans, tests). Later records with the same id replace earlier ones. */
export class MemoryAdvisorySource implements AdvisorySource {
  private readonly byKey = new Map<string, Map<string, Advisory>>();

  constructor(
    readonly description: string,
    advisories: Iterable<Advisory> = [],
  ) {
    for (const advisory of advisories) this.add(advisory);
  }

  add(advisory: Advisory): void {
    for (const affected of advisory.affected) {
      const key = packageKey(affected.ecosystem, affected.name);
      let bucket = this.byKey.get(key);
      if (!bucket) this.byKey.set(key, (bucket = new Map()));
      bucket.set(advisory.id, advisory);
    }
  }

  get size(): number {
    const ids = new Set<string>();
    for (const bucket of this.byKey.values()) for (const id of bucket.keys()) ids.add(id);
    return ids.size;
  }

  candidates(keys: readonly string[]): Promise<Map<string, Advisory[]>> {
    const out = new Map<string, Advisory[]>();
    for (const key of keys) {
      const bucket = this.byKey.get(key);
      if (bucket) out.set(key, [...bucket.values()]);
    }
    return Promise.resolve(out);
  }
}
