import fs from 'node:fs';
import path from 'node:path';

/**
 * Variables a server child inherits from agent-bom's environment (as MCP clients do: a short safe list, not
 * everything). Notably absent: `AGENT_BOM_PUSH_API_KEY` and every other secret of the operator's shell.
 */
const INHERITED_POSIX = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'TMPDIR', 'LANG', 'LC_ALL'];
const INHERITED_WINDOWS = [
  'APPDATA',
  'ComSpec',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATH',
  'PATHEXT',
  'PROCESSOR_ARCHITECTURE',
  'PROGRAMFILES',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERNAME',
  'USERPROFILE',
];

/** `${NAME}`, `${env:NAME}` and `${NAME:-default}`, as Claude Code, VS Code and Cursor expand them. */
const PLACEHOLDER = /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands environment placeholders in a config value. agent-bom's own variables (`AGENT_BOM_*`) are never
 * expanded: a project file must not be able to hand the push key to a server. Returns undefined when a
 * placeholder cannot be resolved (VS Code `${input:…}` prompts, unset variables without a default).
 */
export function expandPlaceholders(value: string, environment: NodeJS.ProcessEnv): string | undefined {
  let unresolved = false;
  const expanded = value.replace(PLACEHOLDER, (_match, name: string, fallback: string | undefined) => {
    const found = name.startsWith('AGENT_BOM_') ? undefined : environment[name];
    if (found !== undefined) return found;
    if (fallback !== undefined) return fallback;
    unresolved = true;
    return '';
  });
  if (unresolved || /\$\{[^}]*\}/.test(expanded)) return undefined;
  return expanded;
}

/** The environment of a stdio server child: the inherited safe list plus the config's `env` (expanded). */
export function childEnvironment(
  configEnv: Readonly<Record<string, string>>,
  environment: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of platform === 'win32' ? INHERITED_WINDOWS : INHERITED_POSIX) {
    const value = environment[name];
    if (value !== undefined && !value.startsWith('()')) env[name] = value; // no exported shell functions
  }
  for (const [name, value] of Object.entries(configEnv)) {
    const expanded = expandPlaceholders(value, environment);
    if (expanded !== undefined) env[name] = expanded;
  }
  return env;
}

/** Header values with placeholders expanded; a header that cannot be resolved or sent is left out. */
export function requestHeaders(
  configHeaders: Readonly<Record<string, string>>,
  environment: NodeJS.ProcessEnv,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(configHeaders)) {
    const expanded = expandPlaceholders(value, environment);
    if (expanded === undefined) continue;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || !/^[\t\x20-\x7e\x80-\xff]*$/.test(expanded)) continue;
    headers[name] = expanded;
  }
  return headers;
}

export interface SpawnPlan {
  command: string;
  args: string[];
  windowsVerbatimArguments?: boolean;
}

/**
 * How to start a command without a shell. On Windows, `npx`, `uvx` and other `.cmd`/`.bat` shims cannot be
 * spawned directly: they are resolved through PATH and PATHEXT and run by `cmd.exe` with every argument quoted
 * and its metacharacters escaped (the approach of cross-spawn).
 */
export function spawnPlan(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  exists: (file: string) => boolean = (file) => fs.existsSync(file),
): SpawnPlan {
  if (platform !== 'win32') return { command, args: [...args] };
  const resolved = resolveWindowsCommand(command, env, exists) ?? command;
  if (!/\.(cmd|bat)$/i.test(resolved)) return { command: resolved, args: [...args] };
  const line = [quoteForCmd(resolved, false), ...args.map((arg) => quoteForCmd(arg, true))].join(' ');
  return {
    command: env.ComSpec ?? 'cmd.exe',
    args: ['/d', '/s', '/c', `"${line}"`],
    windowsVerbatimArguments: true,
  };
}

function resolveWindowsCommand(
  command: string,
  env: NodeJS.ProcessEnv,
  exists: (file: string) => boolean,
): string | undefined {
  const extensions = (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean);
  const hasExtension = path.win32.extname(command) !== '';
  const candidates = (base: string) => (hasExtension ? [base] : extensions.map((ext) => base + ext));
  if (/[\\/]/.test(command)) return candidates(command).find(exists);
  for (const dir of (env.PATH ?? env.Path ?? '').split(';').filter(Boolean)) {
    const found = candidates(path.win32.join(dir, command)).find(exists);
    if (found) return found;
  }
  return undefined;
}

/**
 * Prepares one word for `cmd.exe /d /s /c "…"`. The command only has cmd metacharacters escaped with `^`. An
 * argument has backslashes before quotes doubled, is wrapped in quotes, and is escaped twice (a `.cmd` shim
 * re-parses its arguments).
 */
export function quoteForCmd(word: string, isArgument: boolean): string {
  const meta = /([()\][%!^"`<>&|;, *?])/g;
  if (!isArgument) return word.replace(meta, '^$1');
  const quoted = `"${word.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1')}"`;
  return quoted.replace(meta, '^$1').replace(meta, '^$1');
}
