import { parse } from 'yaml';
import semver from 'semver';
import { ExtractionError } from '../errors.js';
import { checkCount, isRecord, LOCKFILE_YAML, parseBounded } from '../limits.js';
import { isNpmName, makePackage } from '../package-names.js';
import type { ExtractedPackage } from '../types.js';

/**
 * pnpm-lock.yaml, lockfile versions 5 (`/name/1.0.0`), 6 (`/name@1.0.0(peer@1)`) and 9 (`name@1.0.0`).
 * YAML aliases are capped so an alias bomb is refused.
 */
export function parsePnpmLock(file: string, text: string): ExtractedPackage[] {
  const doc = parseBounded(file, text, (t) => parse(t, { ...LOCKFILE_YAML, uniqueKeys: true }) as unknown);
  if (!isRecord(doc)) throw new ExtractionError('LOCKFILE_MALFORMED', `${file}: not a YAML mapping`);
  const origin = { kind: 'lockfile' as const, via: 'pnpm-lock.yaml', path: file };
  const packages = isRecord(doc.packages) ? Object.keys(doc.packages) : [];
  checkCount(file, packages.length);
  const out: ExtractedPackage[] = [];
  for (const key of packages) {
    const parsed = parsePnpmKey(key);
    if (parsed && isNpmName(parsed.name) && semver.valid(parsed.version)) {
      out.push(makePackage('npm', parsed.name, parsed.version, 'pinned', origin));
    }
  }
  return out;
}

export function parsePnpmKey(key: string): { name: string; version: string } | undefined {
  let k = key.startsWith('/') ? key.slice(1) : key;
  k = k.replace(/\(.*$/, ''); // v6/v9 peer suffix
  const at = k.indexOf('@', 1);
  if (at > 0) return { name: k.slice(0, at), version: k.slice(at + 1).replace(/_.*$/, '') };
  // v5: name/version with an optional peer suffix after `_`
  const slash = k.lastIndexOf('/');
  if (slash <= 0) return undefined;
  return { name: k.slice(0, slash), version: k.slice(slash + 1).replace(/_.*$/, '') };
}
