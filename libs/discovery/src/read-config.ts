import fs from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

export type ConfigFormat = 'json' | 'toml' | 'yaml';

/** Config files larger than this are skipped with a warning (5 MiB; real client configs are kilobytes). */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

export type ReadOutcome =
  { status: 'missing' } | { status: 'ok'; data: unknown } | { status: 'error'; message: string };

/**
 * Reads and parses one config file without ever throwing: a missing file is `missing` (the client is not
 * installed), anything else that goes wrong is an `error` with a short message for the warnings list.
 *
 * Security invariant: error messages carry positions (line, column), never text from the file. Parser messages
 * of JSON, TOML and YAML quote the offending line, which may hold a credential, so they are not passed on.
 */
export async function readConfigFile(
  file: string,
  format: ConfigFormat,
  maxBytes = DEFAULT_MAX_FILE_BYTES,
): Promise<ReadOutcome> {
  const text = await readBoundedText(file, maxBytes);
  if (typeof text !== 'string') return text;
  if (text.trim() === '') return { status: 'ok', data: undefined };
  try {
    return { status: 'ok', data: parseText(text, format) };
  } catch (error) {
    return { status: 'error', message: describeParseError(error, text, format) };
  }
}

async function readBoundedText(
  file: string,
  maxBytes: number,
): Promise<string | Exclude<ReadOutcome, { status: 'ok' }>> {
  let handle: fs.FileHandle | undefined;
  try {
    // stat follows symlinks (dotfile managers link configs); a loop surfaces as ELOOP.
    const stat = await fs.stat(file);
    if (!stat.isFile()) return { status: 'error', message: 'not a regular file; skipped' };
    if (stat.size > maxBytes) {
      return {
        status: 'error',
        message: `larger than ${formatBytes(maxBytes)} (${stat.size} bytes); skipped`,
      };
    }
    handle = await fs.open(file, 'r');
    // Read at most maxBytes + 1 even if the file grew since stat.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes)
      return { status: 'error', message: `larger than ${formatBytes(maxBytes)}; skipped` };
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      return { status: 'error', message: 'not UTF-8 text; skipped' };
    }
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    if (code === 'ELOOP') return { status: 'error', message: 'symbolic link loop; skipped' };
    if (code === 'EACCES' || code === 'EPERM')
      return { status: 'error', message: 'permission denied; skipped' };
    if (code === 'EISDIR') return { status: 'error', message: 'not a regular file; skipped' };
    return { status: 'error', message: `cannot be read (${code ?? 'unknown error'}); skipped` };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

function parseText(text: string, format: ConfigFormat): unknown {
  switch (format) {
    case 'json':
      return parseJsonc(text);
    case 'toml':
      return parseToml(text);
    case 'yaml':
      // Alias expansion is bounded (no "billion laughs"); only the first document counts; no warnings on stderr.
      return parseYaml(text, {
        maxAliasCount: 100,
        prettyErrors: false,
        uniqueKeys: false,
        logLevel: 'error',
      });
  }
}

class PositionedError extends Error {
  constructor(readonly offset: number) {
    super('invalid JSON');
  }
}

/**
 * Parses JSON as VS Code, Zed and most MCP clients write it: comments (`//`, `/* *\/`) and trailing commas
 * are allowed. Plain JSON takes the fast path.
 */
export function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (strictError) {
    const relaxed = stripTrailingCommas(stripComments(text));
    if (relaxed === text) throw jsonPosition(strictError);
    try {
      return JSON.parse(relaxed);
    } catch (error) {
      throw jsonPosition(error);
    }
  }
}

function jsonPosition(error: unknown): unknown {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : '');
  return match ? new PositionedError(Number(match[1])) : error;
}

/** Replaces comments by spaces (keeping offsets, so error positions still point into the original text). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (char === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (char === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

function stripTrailingCommas(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    if (char === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] === '}' || text[j] === ']') {
        out += ' ';
        i++;
        continue;
      }
    }
    out += char;
    i++;
  }
  return out;
}

/** Index just past the string literal that starts at `start` (a `"`), or the end of the text. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === '"') return i + 1;
    else i++;
  }
  return text.length;
}

function describeParseError(error: unknown, text: string, format: ConfigFormat): string {
  const what = { json: 'JSON', toml: 'TOML', yaml: 'YAML' }[format];
  if (error instanceof RangeError) return `not valid ${what} (nested too deeply); skipped`;
  let line: number | undefined;
  let column: number | undefined;
  const at = (offset: number) => {
    const before = text.slice(0, offset);
    line = before.split('\n').length;
    column = offset - before.lastIndexOf('\n');
  };
  if (error instanceof PositionedError) {
    at(error.offset);
  } else if (error && typeof error === 'object') {
    // smol-toml: line/column; yaml: pos [start, end] offsets
    const e = error as { line?: unknown; column?: unknown; pos?: unknown };
    if (typeof e.line === 'number' && typeof e.column === 'number') {
      line = e.line;
      column = e.column;
    } else if (Array.isArray(e.pos) && typeof e.pos[0] === 'number') {
      at(e.pos[0]);
    }
  }
  return line === undefined
    ? `not valid ${what}; skipped`
    : `not valid ${what} (line ${line}, column ${column}); skipped`;
}
