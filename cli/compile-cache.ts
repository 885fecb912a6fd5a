import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { defaultCacheDir } from '../apps/proxy/src/cache-dir.js';

/**
 * Turns on Node's compile cache (Node ≥ 22.1) for everything the CLI loads after this, so a second start skips
 * compiling the modules again (about a tenth of `agent-bom proxy`'s start-up CPU). It lives in
 * `<cache dir>/node-compile-cache` (`AGENT_BOM_CACHE_DIR`, else the user's cache directory).
 *
 * Security invariant: the cache is compiled code this process will run, so it is used only from a directory this
 * user owns that nobody else can write (created 0700; an existing one that is a symlink, someone else's, or group-
 * or world-writable is not used). `NODE_DISABLE_COMPILE_CACHE=1` turns it off; `NODE_COMPILE_CACHE=<dir>` chooses
 * the directory instead (Node reads both itself). Any failure leaves the cache off, silently: it only saves time.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const node = module as unknown as CompileCacheApi; // @types/node 20 does not declare it yet
  if (typeof node.enableCompileCache !== 'function') return undefined;
  if (env.NODE_DISABLE_COMPILE_CACHE || env.NODE_COMPILE_CACHE) return undefined;
  try {
    const base = env.AGENT_BOM_CACHE_DIR ? path.resolve(env.AGENT_BOM_CACHE_DIR) : defaultCacheDir(env);
    const dir = path.join(base, 'node-compile-cache');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDirectory(dir)) return undefined;
    const { status, directory } = node.enableCompileCache(dir);
    return status === node.constants.compileCacheStatus.ENABLED ? directory : undefined;
  } catch {
    return undefined;
  }
}

/** `node:module`'s compile-cache API (Node ≥ 22.1). */
interface CompileCacheApi {
  enableCompileCache?: (dir: string) => { status: number; message?: string; directory?: string };
  constants: { compileCacheStatus: { ENABLED: number } };
}

/** A real directory (not a symlink) of this user's that no group or other user can write. */
function privateDirectory(dir: string): boolean {
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory()) return false;
  if (process.platform === 'win32') return true; // a per-user profile directory; no POSIX modes to check
  return stat.uid === process.getuid?.() && (stat.mode & 0o022) === 0;
}
