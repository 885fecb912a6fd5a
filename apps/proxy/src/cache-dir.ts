import os from 'node:os';
import path from 'node:path';

/**
 * The user's cache directory for agent-bom: `~/.cache/agent-bom` (XDG), `~/Library/Caches/agent-bom` (macOS),
 * `%LOCALAPPDATA%\agent-bom\Cache` (Windows). No imports beyond Node's: the CLI entry reads it before anything
 * else is loaded (cli/compile-cache.ts).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'agent-bom', 'Cache');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'agent-bom');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'agent-bom');
}
