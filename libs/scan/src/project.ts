import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ExtractionError } from './errors.js';
import { LOCKFILE_LIMITS } from './limits.js';
import { isLockfileName, parseLockfile } from './lockfiles/index.js';
import type { ExtractedPackage } from './types.js';

export interface ProjectScan {
  directory: string;
  lockfiles: string[];
  packages: ExtractedPackage[];
  /** Lockfiles refused or unreadable, with the reason; the rest of the project is still scanned. */
  errors: Array<{ path: string; code: string; message: string }>;
}

/**
 * Reads the lockfiles directly inside `directory` (not recursively). A lockfile that is a symlink is not
 * followed, and size is checked before reading, so a hostile project cannot point the scanner elsewhere or
 * make it read a huge file.
 */
export async function scanProjectDirectory(directory: string): Promise<ProjectScan> {
  const result: ProjectScan = { directory, lockfiles: [], packages: [], errors: [] };
  let names: string[];
  try {
    names = (await fs.readdir(directory)).filter(isLockfileName).sort();
  } catch (error) {
    result.errors.push({ path: directory, code: 'PROJECT_UNREADABLE', message: messageOf(error) });
    return result;
  }
  for (const name of names) {
    const file = path.join(directory, name);
    try {
      const text = await readLockfile(file);
      result.packages.push(...parseLockfile(name, file, text));
      result.lockfiles.push(file);
    } catch (error) {
      if (error instanceof ExtractionError)
        result.errors.push({ path: file, code: error.code, message: error.message });
      else result.errors.push({ path: file, code: 'LOCKFILE_UNREADABLE', message: messageOf(error) });
    }
  }
  return result;
}

async function readLockfile(file: string): Promise<string> {
  const stat = await fs.lstat(file);
  if (stat.isSymbolicLink())
    throw new ExtractionError('LOCKFILE_HOSTILE_PATH', `${file}: is a symlink; not followed`);
  if (!stat.isFile()) throw new ExtractionError('LOCKFILE_UNREADABLE', `${file}: not a regular file`);
  if (stat.size > LOCKFILE_LIMITS.maxBytes) {
    throw new ExtractionError(
      'LOCKFILE_TOO_LARGE',
      `${file}: ${stat.size} bytes, more than ${LOCKFILE_LIMITS.maxBytes}`,
    );
  }
  return fs.readFile(file, 'utf8');
}

const PROJECT_MARKERS = [
  'package.json',
  'pyproject.toml',
  'requirements.txt',
  'package-lock.json',
  'uv.lock',
  'poetry.lock',
];

/**
 * The project directory a local server script belongs to: the nearest ancestor (at most 6 levels up) holding a
 * manifest or lockfile. Undefined when the path does not exist or no project is found.
 */
export async function projectOfLocalPath(target: string): Promise<string | undefined> {
  let dir: string;
  try {
    const stat = await fs.stat(target);
    dir = stat.isDirectory() ? target : path.dirname(target);
  } catch {
    return undefined;
  }
  for (let i = 0; i < 6; i++) {
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    if (entries.some((e) => PROJECT_MARKERS.includes(e))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 200);
}
