// The policy library already reads secret locations the way a shell or file API would (percent-decoding,
// quotes, backslashes, `..`, globs); reusing it keeps "secret path" meaning one thing in rules and detectors.
import { findSecretPath, percentDecode } from '../../policy/src/secret-paths.js';
import { CREDENTIAL_PATTERNS } from './credentials.js';
import { findMatches } from './prefilter.js';
import type { Finding, Severity } from './types.js';

/** Kinds reported by the argument scan. */
export const ARGUMENT_KINDS = [
  'shell_metacharacters',
  'path_traversal',
  'secret_path',
  'destructive_sql',
  'exfiltration',
] as const;
export type ArgumentKind = (typeof ARGUMENT_KINDS)[number];

/** Member names whose values are file system paths or URIs. */
const PATH_KEY =
  /(?:^|[_-])(?:path|paths|file|files|filename|filepath|dir|dirs|directory|folder|src|source|dest|destination|target|cwd|root|uri|location)$/i;
/** Member names whose values are commands or code. */
const COMMAND_KEY =
  /^(?:command|commands|cmd|script|shell|exec|argv|args|code|program|run|bash|sh|powershell)$/i;
/** Member names whose values are SQL. */
const SQL_KEY = /^(?:sql|query|queries|statement|statements|stmt|q)$/i;

type Report = (kind: ArgumentKind, severity: Severity, reason: string) => void;

/**
 * Runs every argument detector on one string value. `key` is the member name the string sits under (for array
 * elements, the array's), which decides how suspicious a pattern is: `;` in a `path` is an injection attempt,
 * in a chat message it is punctuation.
 */
export function detectInArgument(text: string, key: string | undefined, report: Report): void {
  const pathLike = key !== undefined && PATH_KEY.test(key);
  const commandLike = key !== undefined && COMMAND_KEY.test(key);
  const singleLine = !text.includes('\n');
  shell(text, pathLike, commandLike, report);
  if (pathLike || singleLine || commandLike) traversal(text, pathLike, report);
  if (pathLike || singleLine || commandLike) {
    const hit = findSecretPath(text);
    if (hit) report('secret_path', 'high', `names the secret location ${hit.secret}`);
  }
  sql(text, key !== undefined && (SQL_KEY.test(key) || commandLike), report);
  exfiltration(text, report);
}

// Regexes tested on every string are module constants: a regex literal in a function body is a new RegExp object
// each time it is evaluated.

// --- shell ------------------------------------------------------------------------------------------------

/**
 * Fetch-and-run and reverse shells: hostile wherever they appear. Each window after a command word stops at the
 * next such word (`(?:(?!\bcurl\b)…)`): the nearest one before the pipe decides alone, and a run of command words
 * is read once instead of once from each of them (`curl ` × 50,000 took 650 ms of CPU; now a few).
 */
const DOWNLOAD_AND_RUN =
  /\b(?:curl|wget|fetch)\b(?:(?!\b(?:curl|wget|fetch)\b)[^\n;&|]){0,500}\|\s{0,10}(?:sudo\s+)?(?:ba|z|k|da)?sh\b|\/dev\/(?:tcp|udp)\/|\b(?:nc|ncat|netcat)\b(?:(?!\b(?:nc|ncat|netcat)\b)[^\n;&|]){0,200}\s-[a-z]{0,5}[ec]\b|\bbash\s+-i\s*>&|\bmkfifo\b(?:(?!\bmkfifo\b)[^\n]){0,200}\b(?:nc|ncat|sh)\b/i;
/** Command substitution running something. */
const SUBSTITUTION = /\$\([^()\n]{1,1000}\)|`[^`\n]{1,1000}`/;
/** A separator followed by a command word: `x; rm -rf`, `a && curl`, `| sh`. */
const CHAINED =
  /(?:;|&&|\|\||\||\n)\s{0,10}(?:sudo\s+)?(?:rm|curl|wget|nc|ncat|netcat|bash|sh|zsh|python[0-9.]*|perl|ruby|php|node|chmod|chown|dd|mkfs|base64|eval|exec|powershell|pwsh|cmd|certutil|bitsadmin|scp|ssh|telnet|kill|shutdown|reboot)\b/i;
const METACHARACTERS = /[;|&$`<>\n\r]/;
/** In a command: a separator followed by anything. */
const CHAINS_ANYTHING = /(?:;|&&|\|\||\|)\s{0,10}[A-Za-z]/;
/** A short value, then a separator. */
const VALUE_THEN_SEPARATOR = /^[^\s;&|]{1,200}\s{0,3}(?:;|&&|\|\|)/;

function shell(text: string, pathLike: boolean, commandLike: boolean, report: Report): void {
  if (DOWNLOAD_AND_RUN.test(text)) {
    report('shell_metacharacters', 'critical', 'downloads and runs code, or opens a reverse shell');
    return;
  }
  const substitution = SUBSTITUTION.test(text);
  const chained = CHAINED.test(text);
  if (pathLike) {
    if (substitution || chained)
      report('shell_metacharacters', 'high', 'a path that chains or substitutes shell commands');
    else if (METACHARACTERS.test(text))
      report('shell_metacharacters', 'medium', 'shell metacharacters in a path');
    return;
  }
  if (commandLike) {
    if (substitution || CHAINS_ANYTHING.test(text))
      report('shell_metacharacters', 'medium', 'a command that chains or substitutes other commands');
    return;
  }
  if (!text.includes('\n') && chained && VALUE_THEN_SEPARATOR.test(text)) {
    // A short value followed by a separator and a command: the classic argument injection (`main; rm -rf ~`).
    report('shell_metacharacters', 'high', 'a value followed by a chained shell command');
  }
}

// --- path traversal ---------------------------------------------------------------------------------------

const PARENT_SEGMENT = /(?:^|[\\/])\.\.(?=[\\/]|$)/g;
const ENCODED_NUL = /%(?:25)*00/;
const SLASH = /[\\/]/;
const ENCODED_DOT = /%(?:25)*2e|%(?:25)*c0%(?:25)*ae|%(?:25)*e0%(?:25)*80%(?:25)*ae|%u002e|\\u002e/i;
const ENCODED_SLASH = /%(?:25)*(?:2f|5c)|%(?:25)*c0%(?:25)*af|%(?:25)*c1%(?:25)*9c/i;

function traversal(text: string, pathLike: boolean, report: Report): void {
  if (text.includes('\u0000') || ENCODED_NUL.test(text)) {
    if (pathLike || SLASH.test(text)) {
      report('path_traversal', 'high', 'a NUL byte, which truncates paths in many file APIs');
      return;
    }
  }
  const encoded = ENCODED_DOT.test(text) || (ENCODED_SLASH.test(text) && text.includes('..'));
  const decoded = encoded ? decodeLayers(text) : text;
  const climbs = decoded.match(PARENT_SEGMENT)?.length ?? 0;
  if (climbs === 0) return;
  if (encoded)
    report('path_traversal', 'high', `climbs ${climbs} director${climbs > 1 ? 'ies' : 'y'} with encoded ../`);
  else if (climbs >= 2) report('path_traversal', 'high', `climbs ${climbs} directories with ../`);
  else report('path_traversal', 'medium', 'climbs a directory with ../');
}

/** Percent-decoding (three layers) plus the overlong UTF-8 spellings of `.` `/` `\` that lax decoders accept. */
function decodeLayers(text: string): string {
  return percentDecode(
    text
      .replace(/%(?:25)*c0%(?:25)*ae|%(?:25)*e0%(?:25)*80%(?:25)*ae|%u002e|\\u002e/gi, '.')
      .replace(/%(?:25)*c0%(?:25)*af/gi, '/')
      .replace(/%(?:25)*c1%(?:25)*9c/gi, '\\'),
  );
}

// --- SQL --------------------------------------------------------------------------------------------------

const DESTRUCTIVE_START =
  /^(?:DROP\s+(?:TABLE|DATABASE|SCHEMA|VIEW|INDEX|USER|ROLE|OWNED|COLLECTION)\b|TRUNCATE\b|ALTER\s+TABLE\s+\S+\s+DROP\b|ALTER\s+(?:USER|ROLE|LOGIN)\b|GRANT\s+ALL\b|EXECUTE\s+IMMEDIATE\b|COPY\s+INTO\s+'?(?:s3|gcs|azure|https?):|CREATE\s+(?:OR\s+REPLACE\s+)?STAGE\b)/i;
const DELETE_OR_UPDATE = /^(?:DELETE\s+FROM\s|UPDATE\s+\S+\s+SET\s)/i;
/** A statement keyword outside SQL keys (upper case only), and in SQL keys (any case). */
const SQL_VERB_UPPER = /\b(?:DROP|TRUNCATE|DELETE|UPDATE|ALTER|GRANT|EXECUTE|COPY|CREATE)\b/;
const SQL_VERB_ANY_CASE = /\b(?:drop|truncate|delete|update|alter|grant|execute|copy|create)\b/i;

/**
 * Statement-level checks: each `;`-separated statement (comments skipped) is tested at its start, so prose that
 * mentions "drop table" does not hit. Outside SQL-like keys only upper-case keywords count, the way SQL is
 * written into free text by someone who means it.
 */
function sql(text: string, sqlKey: boolean, report: Report): void {
  if (!sqlKey && !SQL_VERB_UPPER.test(text)) return;
  if (sqlKey && !SQL_VERB_ANY_CASE.test(text)) return;
  const statements = text.split(';', 1_000);
  for (const raw of statements) {
    const statement = raw.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]{0,10000}?\*\/)*/, '');
    const head = statement.slice(0, 200);
    if (!sqlKey && !/^[A-Z]+\s+[A-Z]+/.test(head)) continue;
    if (DESTRUCTIVE_START.test(head)) {
      const verb = /^\S+\s+\S+/.exec(head)?.[0].toUpperCase().replace(/\s+/, ' ') ?? 'statement';
      report('destructive_sql', 'high', `destructive SQL (${verb})`);
      return;
    }
    if (DELETE_OR_UPDATE.test(head) && !/\bWHERE\b/i.test(statement)) {
      const verb = head.slice(0, 6).toUpperCase();
      report('destructive_sql', 'high', `${verb} without a WHERE clause`);
      return;
    }
  }
}

// --- exfiltration -----------------------------------------------------------------------------------------

const URL = /\b(?:https?|wss?|ftp):\/\/[^\s"'<>]{1,8192}/gi;
const ENCODED_RUN = /[A-Za-z0-9+/_-]{128,}={0,2}|(?:%[0-9a-f]{2}){64,}/i;
/** Windows stop at the next command word, as in `DOWNLOAD_AND_RUN`. */
const UPLOAD =
  /\b(?:curl|wget)\b(?:(?!\b(?:curl|wget)\b)[^\n;&|]){0,500}?\s(?:-d|--data(?:-binary|-raw|-urlencode)?|-F|--form|-T|--upload-file|--post-file|--post-data)[\s=]+["']?(?:@|\$\(|`)|\|\s{0,10}(?:curl|wget|nc|ncat|netcat)\b|\b(?:nc|ncat|netcat)\s(?:(?!\b(?:nc|ncat|netcat)\s)[^\n|;&]){0,200}<\s{0,5}\S/i;

function exfiltration(text: string, report: Report): void {
  if (UPLOAD.test(text)) {
    report('exfiltration', 'high', 'a command that sends local data to the network');
    return;
  }
  if (text.length >= 140 && text.includes('://')) {
    URL.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = URL.exec(text)) !== null) {
      const rest = match[0].replace(/^[a-z]+:\/\/[^/?#]*/i, '');
      if (ENCODED_RUN.test(rest)) {
        report('exfiltration', 'high', 'a URL that carries a long encoded payload');
        return;
      }
    }
  }
  const credentials = findMatches(text, CREDENTIAL_PATTERNS);
  if (credentials.length > 0) {
    const labels = [...new Set(credentials.map((m) => m.pattern.label))].slice(0, 3).join(', ');
    report('exfiltration', 'high', `arguments carry a credential (${labels})`);
  }
}

/** Builds a finding for the argument scan. */
export function argumentFinding(
  kind: ArgumentKind,
  severity: Severity,
  path: string,
  reason: string,
): Finding {
  return { kind, category: 'argument', severity, path, reason };
}
