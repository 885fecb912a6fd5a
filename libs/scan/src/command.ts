import path from 'node:path';
import { isNpmName, isPypiName, makePackage, normalizePypiName, npmConfidence } from './package-names.js';
import type { ExtractedPackage, PackageOrigin } from './types.js';

/** What a server's launch command tells us: registry packages, and local paths whose project to read. */
export interface CommandExtraction {
  packages: ExtractedPackage[];
  /** Absolute or config-relative paths of local scripts/directories (`node ./dist/index.js`, `uv --directory`). */
  localPaths: string[];
  /** Why nothing could be extracted (a git URL, a local tarball, an unknown launcher), for the report. */
  notes: string[];
}

/** Flags of npx / npm exec / pnpm dlx / bunx that take a value (the value is not the package). */
const NODE_VALUE_FLAGS = new Set([
  '-c',
  '--call',
  '--cache',
  '--registry',
  '--userconfig',
  '-w',
  '--workspace',
]);
const UV_VALUE_FLAGS = new Set([
  '--python',
  '-p',
  '--index',
  '--index-url',
  '--extra-index-url',
  '--default-index',
  '-i',
  '--find-links',
  '-f',
  '--directory',
  '--project',
  '--config-file',
  '--cache-dir',
  '--constraint',
  '-c',
  '--override',
  '--with-requirements',
  '--python-preference',
  '--index-strategy',
  '--keyring-provider',
  '--resolution',
  '--prerelease',
  '--exclude-newer',
  '--link-mode',
  '--color',
  '--refresh-package',
  '--reinstall-package',
  '--upgrade-package',
  '-P',
  '--env-file',
]);
const PIPX_VALUE_FLAGS = new Set(['--python', '--index-url', '-i', '--pip-args', '--backend']);
const DOCKER_VALUE_FLAGS = new Set([
  '-e',
  '--env',
  '--env-file',
  '-v',
  '--volume',
  '--mount',
  '-p',
  '--publish',
  '--name',
  '--network',
  '--net',
  '-w',
  '--workdir',
  '--entrypoint',
  '-u',
  '--user',
  '-l',
  '--label',
  '--label-file',
  '--platform',
  '--pull',
  '--add-host',
  '--cpus',
  '-m',
  '--memory',
  '-h',
  '--hostname',
  '--restart',
  '--log-driver',
  '--log-opt',
  '--device',
  '--cap-add',
  '--cap-drop',
  '--security-opt',
  '--tmpfs',
  '--ulimit',
  '--dns',
  '--ipc',
  '--pid',
  '--shm-size',
  '--gpus',
  '--runtime',
  '--stop-signal',
  '--stop-timeout',
  '--health-cmd',
  '--cidfile',
  '--expose',
  '--group-add',
  '--userns',
  '--uts',
  '--volumes-from',
  '--link',
  '--attach',
  '-a',
  '--memory-swap',
  '--cpu-shares',
  '-c',
  '--cpuset-cpus',
]);

/**
 * Extracts the packages an MCP server launch command runs. Pure: never touches the filesystem or network.
 * `cwd` (the config's directory) resolves relative local paths.
 */
export function extractFromCommand(
  command: string,
  args: readonly string[],
  cwd?: string,
): CommandExtraction {
  const out: CommandExtraction = { packages: [], localPaths: [], notes: [] };
  const launcher = launcherName(command);
  const rest = [...args];
  const origin = (via: string): PackageOrigin => ({ kind: 'command', via });

  switch (launcher) {
    case 'npx':
    case 'bunx':
      npmRunner(rest, origin(launcher), out);
      break;
    case 'npm':
    case 'pnpm':
    case 'yarn':
    case 'bun': {
      const sub = rest.findIndex((a) => !a.startsWith('-'));
      const verb = rest[sub];
      const runs =
        (launcher === 'npm' && (verb === 'exec' || verb === 'x')) ||
        (launcher === 'pnpm' && verb === 'dlx') ||
        (launcher === 'yarn' && verb === 'dlx') ||
        (launcher === 'bun' && verb === 'x');
      if (runs) npmRunner(rest.slice(sub + 1), origin(`${launcher} ${verb}`), out);
      else
        out.notes.push(`${launcher} ${verb ?? ''}: runs local project code, not a registry package`.trim());
      break;
    }
    case 'uvx':
      uvRunner(rest, origin('uvx'), out, cwd);
      break;
    case 'uv': {
      const directory = valueOf(rest, '--directory');
      if (directory) out.localPaths.push(resolveLocal(directory, cwd));
      const tool = rest.indexOf('tool');
      if (tool >= 0 && rest[tool + 1] === 'run')
        uvRunner(rest.slice(tool + 2), origin('uv tool run'), out, cwd);
      else if (rest.includes('run') && !directory) out.notes.push('uv run: runs the current project');
      break;
    }
    case 'pipx': {
      const run = rest.indexOf('run');
      if (run >= 0) pipxRunner(rest.slice(run + 1), out);
      else out.notes.push('pipx without run');
      break;
    }
    case 'docker':
    case 'podman': {
      const run = rest.indexOf('run');
      if (run >= 0) dockerImage(rest.slice(run + 1), origin(`${launcher} run`), out);
      else out.notes.push(`${launcher} without run`);
      break;
    }
    case 'node':
    case 'deno':
    case 'python':
    case 'python3':
    case 'tsx':
    case 'ts-node': {
      const script = rest.find((a, i) => !a.startsWith('-') && !(i > 0 && rest[i - 1] === '-m'));
      if (rest.includes('-m')) out.notes.push(`${launcher} -m: runs an installed module`);
      else if (script) out.localPaths.push(resolveLocal(script, cwd));
      break;
    }
    default:
      if (command.includes('/') || command.includes('\\') || command.startsWith('.')) {
        out.localPaths.push(resolveLocal(command, cwd));
      } else out.notes.push(`${launcher}: unknown launcher`);
  }
  return out;
}

/** `/usr/local/bin/npx.cmd` → `npx`; `python3.12` → `python3`. */
function launcherName(command: string): string {
  const base = command
    .split(/[\\/]/)
    .pop()!
    .toLowerCase()
    .replace(/\.(cmd|exe|bat|ps1)$/, '');
  return /^python3(\.\d+)?$/.test(base) ? 'python3' : base;
}

function resolveLocal(target: string, cwd: string | undefined): string {
  return path.isAbsolute(target) || !cwd ? target : path.resolve(cwd, target);
}

function valueOf(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

/** Walks flags; returns the first positional argument's index (skipping values of value flags). */
function firstPositional(args: string[], valueFlags: Set<string>): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return i + 1 < args.length ? i + 1 : -1;
    if (!a.startsWith('-')) return i;
    if (!a.includes('=') && valueFlags.has(a)) i++;
  }
  return -1;
}

function npmRunner(args: string[], origin: PackageOrigin, out: CommandExtraction): void {
  const specs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-p' || a === '--package') specs.push(args[++i]);
    else if (a.startsWith('--package=')) specs.push(a.slice('--package='.length));
  }
  if (!specs.length) {
    const first = firstPositional(args, new Set([...NODE_VALUE_FLAGS, '-p', '--package']));
    if (first >= 0) specs.push(args[first]);
  }
  for (const spec of specs.filter(Boolean)) {
    const parsed = parseNpmSpec(spec);
    if (!parsed) {
      out.notes.push(`${origin.via} ${spec}: not a registry package`);
      continue;
    }
    const { version, confidence } = npmConfidence(parsed.spec);
    out.packages.push(makePackage('npm', parsed.name, version, confidence, origin));
  }
}

/** `@scope/name@1.2.3` → name + spec; git URLs, tarballs and paths → undefined. */
export function parseNpmSpec(spec: string): { name: string; spec?: string } | undefined {
  if (/^(\.|\/|~|file:|git[+:]|https?:|github:|[a-z]:\\)/i.test(spec) || spec.endsWith('.tgz'))
    return undefined;
  const npmAlias = spec.startsWith('npm:') ? spec.slice(4) : spec;
  const at = npmAlias.indexOf('@', 1);
  const name = at > 0 ? npmAlias.slice(0, at) : npmAlias;
  const version = at > 0 ? npmAlias.slice(at + 1) : undefined;
  if (!isNpmName(name)) return undefined;
  return { name, spec: version };
}

function uvRunner(
  args: string[],
  origin: PackageOrigin,
  out: CommandExtraction,
  cwd: string | undefined,
): void {
  const from = valueOf(args, '--from');
  const spec = from ?? args[firstPositional(args, new Set([...UV_VALUE_FLAGS, '--from', '--with', '-w']))];
  if (!spec) return;
  if (/^(\.|\/|git\+|https?:|file:)/.test(spec)) {
    if (/^(\.|\/)/.test(spec)) out.localPaths.push(resolveLocal(spec, cwd));
    else out.notes.push(`${origin.via} ${spec}: not a registry package`);
    return;
  }
  pushPypi(spec, origin, out);
}

function pipxRunner(args: string[], out: CommandExtraction): void {
  const origin: PackageOrigin = { kind: 'command', via: 'pipx run' };
  const spec =
    valueOf(args, '--spec') ?? args[firstPositional(args, new Set([...PIPX_VALUE_FLAGS, '--spec']))];
  if (spec) pushPypi(spec, origin, out);
}

/** PEP 508-ish requirement as uvx/pipx accept it: `name[extra]==1.0`, `name>=1`, `name@1.0`, `name@latest`. */
export function parsePypiSpec(
  spec: string,
): { name: string; version?: string; confidence: 'pinned' | 'range' | 'floating' } | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/.exec(spec.trim());
  if (!match || !isPypiName(match[1])) return undefined;
  const name = normalizePypiName(match[1]);
  const rest = match[3].split(';')[0].trim();
  if (!rest || rest === '@latest') return { name, confidence: 'floating' };
  const exact = /^(?:===?|@)\s*([A-Za-z0-9.+!_-]+)$/.exec(rest);
  if (exact && !exact[1].includes('*')) return { name, version: exact[1], confidence: 'pinned' };
  return { name, version: rest, confidence: 'range' };
}

function pushPypi(spec: string, origin: PackageOrigin, out: CommandExtraction): void {
  const parsed = parsePypiSpec(spec);
  if (!parsed) {
    out.notes.push(`${origin.via} ${spec}: not a PyPI requirement`);
    return;
  }
  out.packages.push(makePackage('pypi', parsed.name, parsed.version, parsed.confidence, origin));
}

function dockerImage(args: string[], origin: PackageOrigin, out: CommandExtraction): void {
  const i = firstPositional(args, DOCKER_VALUE_FLAGS);
  if (i < 0) return;
  const image = parseImage(args[i]);
  if (!image) {
    out.notes.push(`${origin.via} ${args[i]}: not an image reference`);
    return;
  }
  out.packages.push(makePackage('docker', image.name, image.version, image.confidence, origin));
}

/** `ghcr.io/org/img:1.2@sha256:…` → name `ghcr.io/org/img`; digest → pinned, tag → range, none/latest → floating. */
export function parseImage(
  ref: string,
): { name: string; version?: string; confidence: 'pinned' | 'range' | 'floating' } | undefined {
  const match =
    /^([a-z0-9][a-z0-9._/:-]*?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(
      ref,
    );
  if (!match || match[1].endsWith('/')) return undefined;
  let name = match[1];
  if (!name.includes('/')) name = `library/${name}`;
  if (match[3]) return { name, version: match[3], confidence: 'pinned' };
  if (!match[2] || match[2] === 'latest') return { name, confidence: 'floating' };
  return { name, version: match[2], confidence: 'range' };
}
