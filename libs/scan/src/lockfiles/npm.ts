import { ExtractionError } from '../errors.js';
import { checkCount, isRecord, parseBounded } from '../limits.js';
import { isNpmName, makePackage } from '../package-names.js';
import semver from 'semver';
import type { ExtractedPackage } from '../types.js';

/**
 * package-lock.json / npm-shrinkwrap.json, lockfile versions 1–3. v2/v3 list installed paths under
 * `packages` (`node_modules/a/node_modules/@s/b`); v1 nests `dependencies`. Linked workspaces and entries
 * without a registry version are skipped; a path that climbs (`..`) or is absolute is refused.
 */
export function parsePackageLock(file: string, text: string): ExtractedPackage[] {
  const doc = parseBounded(file, text, JSON.parse);
  if (!isRecord(doc)) throw new ExtractionError('LOCKFILE_MALFORMED', `${file}: not a JSON object`);
  const origin = { kind: 'lockfile' as const, via: 'package-lock.json', path: file };
  const out: ExtractedPackage[] = [];
  if (isRecord(doc.packages)) {
    const entries = Object.entries(doc.packages);
    checkCount(file, entries.length);
    for (const [key, entry] of entries) {
      if (key === '' || !isRecord(entry) || entry.link === true) continue;
      checkInstallPath(file, key);
      const idx = key.lastIndexOf('node_modules/');
      const name = typeof entry.name === 'string' ? entry.name : idx >= 0 ? key.slice(idx + 13) : undefined;
      if (idx < 0 || !name) continue; // a workspace package's own directory
      push(out, name, entry.version, origin);
    }
    return out;
  }
  // v1: nested dependencies, walked without recursion.
  const stack: unknown[] = [doc.dependencies];
  while (stack.length) {
    const deps = stack.pop();
    if (!isRecord(deps)) continue;
    for (const [name, entry] of Object.entries(deps)) {
      if (!isRecord(entry)) continue;
      push(out, name, entry.version, origin);
      checkCount(file, out.length);
      stack.push(entry.dependencies);
    }
  }
  return out;
}

function push(
  out: ExtractedPackage[],
  name: string,
  version: unknown,
  origin: ExtractedPackage['origin'],
): void {
  if (!isNpmName(name) || typeof version !== 'string' || !semver.valid(version)) return;
  out.push(makePackage('npm', name, version, 'pinned', origin));
}

/** Refuses install paths that climb out of the project or are absolute (`../../etc`, `/abs`, `C:\`). */
export function checkInstallPath(file: string, key: string): void {
  if (
    key.startsWith('/') ||
    /^[a-zA-Z]:[\\/]/.test(key) ||
    key.split(/[\\/]/).includes('..') ||
    key.includes('\0')
  ) {
    throw new ExtractionError(
      'LOCKFILE_HOSTILE_PATH',
      `${file}: refused install path ${JSON.stringify(key.slice(0, 200))}`,
    );
  }
}
