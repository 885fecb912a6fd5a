import { parse as parseToml } from 'smol-toml';
import { ExtractionError } from '../errors.js';
import { checkCount, isRecord, LOCKFILE_LIMITS, parseBounded } from '../limits.js';
import { parsePypiSpec } from '../command.js';
import { isPypiName, makePackage, normalizePypiName } from '../package-names.js';
import type { ExtractedPackage } from '../types.js';

/**
 * requirements.txt (pip / pip-compile): one requirement per line; `==`/`===` pins are pinned, anything else is a
 * range or floating. Options (`-r`, `-e`, `--hash`), URLs and local paths are skipped; `\` continuations joined.
 */
export function parseRequirements(file: string, text: string): ExtractedPackage[] {
  if (Buffer.byteLength(text) > LOCKFILE_LIMITS.maxBytes) {
    throw new ExtractionError('LOCKFILE_TOO_LARGE', `${file}: larger than ${LOCKFILE_LIMITS.maxBytes} bytes`);
  }
  const origin = { kind: 'lockfile' as const, via: 'requirements.txt', path: file };
  const out: ExtractedPackage[] = [];
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line || line.startsWith('-') || /^(git\+|https?:|file:|\.|\/)/.test(line) || line.includes(' @ '))
      continue;
    const requirement = line.split(/\s+--/)[0].trim();
    const parsed = parsePypiSpec(requirement);
    if (!parsed) continue;
    out.push(makePackage('pypi', parsed.name, parsed.version, parsed.confidence, origin));
    checkCount(file, out.length);
  }
  return out;
}

/** poetry.lock and uv.lock: TOML with `[[package]]` tables of `name` and `version`; local/editable sources skipped. */
export function parsePythonTomlLock(
  file: string,
  text: string,
  via: 'poetry.lock' | 'uv.lock',
): ExtractedPackage[] {
  const doc = parseBounded(file, text, (t) => parseToml(t) as unknown);
  if (!isRecord(doc)) throw new ExtractionError('LOCKFILE_MALFORMED', `${file}: not a TOML document`);
  const packages = Array.isArray(doc.package) ? doc.package : [];
  checkCount(file, packages.length);
  const origin = { kind: 'lockfile' as const, via, path: file };
  const out: ExtractedPackage[] = [];
  for (const entry of packages) {
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.version !== 'string') continue;
    if (!isPypiName(entry.name) || isLocalSource(entry.source)) continue;
    out.push(makePackage('pypi', normalizePypiName(entry.name), entry.version, 'pinned', origin));
  }
  return out;
}

/** uv: `{ editable = "." }`, `{ virtual = "." }`, `{ path = … }`, `{ directory = … }`; poetry: `type = "directory"|"file"`. */
function isLocalSource(source: unknown): boolean {
  if (!isRecord(source)) return false;
  if ('editable' in source || 'virtual' in source || 'path' in source || 'directory' in source) return true;
  return source.type === 'directory' || source.type === 'file';
}
