import { parse } from 'yaml';
import semver from 'semver';
import { ExtractionError } from '../errors.js';
import { checkCount, isRecord, LOCKFILE_LIMITS, LOCKFILE_YAML, parseBounded } from '../limits.js';
import { isNpmName, makePackage } from '../package-names.js';
import type { ExtractedPackage } from '../types.js';

/**
 * yarn.lock: classic v1 (its own indented format) and berry (YAML with `__metadata`). Entries resolved from
 * somewhere other than the registry (`workspace:`, `link:`, `file:`, `patch:` of a local file) are skipped.
 */
export function parseYarnLock(file: string, text: string): ExtractedPackage[] {
  const origin = { kind: 'lockfile' as const, via: 'yarn.lock', path: file };
  const entries = /^__metadata:/m.test(text) ? berryEntries(file, text) : classicEntries(file, text);
  checkCount(file, entries.length);
  const out: ExtractedPackage[] = [];
  for (const { descriptor, version } of entries) {
    const name = descriptorName(descriptor);
    if (!name || !isNpmName(name) || !semver.valid(version)) continue;
    if (/@(workspace|link|file|portal|exec):/.test(descriptor)) continue;
    out.push(makePackage('npm', name, version, 'pinned', origin));
  }
  return out;
}

interface Entry {
  descriptor: string;
  version: string;
}

function berryEntries(file: string, text: string): Entry[] {
  const doc = parseBounded(file, text, (t) => parse(t, LOCKFILE_YAML) as unknown);
  if (!isRecord(doc)) throw new ExtractionError('LOCKFILE_MALFORMED', `${file}: not a YAML mapping`);
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === '__metadata' || !isRecord(value) || typeof value.version !== 'string') continue;
    out.push({ descriptor: key.split(',')[0].trim(), version: value.version });
  }
  return out;
}

/** The v1 format: unindented `"a@^1", a@~1.1:` headers followed by indented `version "1.2.3"`. */
function classicEntries(file: string, text: string): Entry[] {
  if (Buffer.byteLength(text) > LOCKFILE_LIMITS.maxBytes) {
    throw new ExtractionError('LOCKFILE_TOO_LARGE', `${file}: larger than ${LOCKFILE_LIMITS.maxBytes} bytes`);
  }
  const out: Entry[] = [];
  let descriptor: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      if (!line.endsWith(':'))
        throw new ExtractionError(
          'LOCKFILE_MALFORMED',
          `${file}: unexpected line ${JSON.stringify(line.slice(0, 80))}`,
        );
      descriptor = line.slice(0, -1).split(',')[0].trim().replace(/^"|"$/g, '');
      continue;
    }
    const version = /^ {2}version:? "?([^"\s]+)"?$/.exec(line);
    if (version && descriptor) {
      out.push({ descriptor, version: version[1] });
      descriptor = undefined;
    }
  }
  return out;
}

/** `@scope/name@npm:^1.0.0` → `@scope/name`; an alias `alias@npm:real@^1` → `real`. */
function descriptorName(descriptor: string): string | undefined {
  const at = descriptor.indexOf('@', 1);
  if (at < 0) return undefined;
  const range = descriptor.slice(at + 1);
  if (range.startsWith('npm:') && range.indexOf('@', 5) > 0) {
    return range.slice(4, range.indexOf('@', 5));
  }
  return descriptor.slice(0, at);
}
