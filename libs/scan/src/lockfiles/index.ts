import { ExtractionError } from '../errors.js';
import type { ExtractedPackage } from '../types.js';
import { parsePackageLock } from './npm.js';
import { parsePnpmLock } from './pnpm.js';
import { parsePythonTomlLock, parseRequirements } from './python.js';
import { parseYarnLock } from './yarn.js';

/** Lockfile base names the scanner reads, in the order it reads them. */
export const LOCKFILE_NAMES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'requirements.txt',
  'poetry.lock',
  'uv.lock',
] as const;
export type LockfileName = (typeof LOCKFILE_NAMES)[number];

export function isLockfileName(name: string): name is LockfileName {
  return (LOCKFILE_NAMES as readonly string[]).includes(name) || /^requirements[\w.-]*\.txt$/.test(name);
}

/**
 * Parses one lockfile by its base name. Throws `ExtractionError` for input it refuses (too large, too deep,
 * prototype keys, climbing install paths, malformed).
 */
export function parseLockfile(baseName: string, file: string, text: string): ExtractedPackage[] {
  switch (baseName) {
    case 'package-lock.json':
    case 'npm-shrinkwrap.json':
      return parsePackageLock(file, text);
    case 'pnpm-lock.yaml':
      return parsePnpmLock(file, text);
    case 'yarn.lock':
      return parseYarnLock(file, text);
    case 'poetry.lock':
      return parsePythonTomlLock(file, text, 'poetry.lock');
    case 'uv.lock':
      return parsePythonTomlLock(file, text, 'uv.lock');
    default:
      if (/^requirements[\w.-]*\.txt$/.test(baseName)) return parseRequirements(file, text);
      throw new ExtractionError('LOCKFILE_UNREADABLE', `${file}: not a lockfile the scanner reads`);
  }
}
