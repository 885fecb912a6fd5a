import { nameKey } from './normalize.js';
import { TOOL_CLASSES, type ToolClass } from './types.js';

/** Tool classes as bits, so "has any of" is one AND. */
export const CLASS_BIT: Readonly<Record<ToolClass, number>> = Object.fromEntries(
  TOOL_CLASSES.map((name, i) => [name, 1 << i]),
) as Record<ToolClass, number>;

/** The class names of a bit set, in `TOOL_CLASSES` order. */
export function classNames(bits: number): ToolClass[] {
  return TOOL_CLASSES.filter((name) => (bits & CLASS_BIT[name]) !== 0);
}

/** Words in tool names that suggest each class. Compound words (`readfile`) match on a leading or trailing keyword. */
const KEYWORDS: Readonly<Record<ToolClass, string>> = {
  read:
    'read get list search find fetch view show describe cat head tail lookup query ls stat ' +
    'open load download inspect grep glob browse retrieve peek',
  write:
    'write create update edit put set save insert upload append modify patch rename move mv ' +
    'copy cp mkdir add commit push replace upsert post send publish merge store import touch ' +
    'chmod chown install deploy',
  execute:
    'exec execute run shell bash sh zsh cmd command eval spawn terminal powershell pwsh ' +
    'script subprocess invoke launch python node repl interpreter',
  network:
    'http https fetch curl wget request url web browse browser download upload webhook api ' +
    'socket ping dns scrape crawl email mail smtp ftp net network proxy navigate',
  filesystem:
    'file files fs dir directory directories folder path disk mkdir rmdir ls cat glob grep ' +
    'tree stat chmod chown touch symlink',
  database:
    'sql query db database postgres postgresql mysql sqlite mongo mongodb redis table tables ' +
    'select collection schema bigquery snowflake dynamodb elasticsearch cypher',
  destructive:
    'delete remove rm rmdir drop truncate destroy kill purge wipe erase reset terminate ' +
    'uninstall unlink shred revoke flush prune overwrite',
};

const WORD_BITS = new Map<string, number>();
for (const name of TOOL_CLASSES) {
  for (const word of KEYWORDS[name].split(' '))
    WORD_BITS.set(word, (WORD_BITS.get(word) ?? 0) | CLASS_BIT[name]);
}
/**
 * Keywords also recognised as the start or end of a compound word (`readfile`, `execcommand`, `droptable`).
 * Chosen by hand: short or common words (`ping` in `mapping`, `stat` in `status`) would misfire.
 */
const AFFIXES: ReadonlyArray<readonly [string, number]> = (
  'read write delete remove create update exec execute shell command file files query fetch search ' +
  'drop truncate destroy upload download http sql bash spawn'
)
  .split(' ')
  .map((word) => [word, WORD_BITS.get(word) as number]);

/**
 * Classes suggested by a tool name: split on separators and camelCase, normalised like every name
 * (`rеad_File` → `read`, `file`), each word looked up. Unknown names get no class.
 */
export function classesOfName(name: string): number {
  const words = nameKey(name.replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1_$2')).split(/[^\p{L}\p{N}]+/u);
  let bits = 0;
  for (const word of words) {
    if (word === '') continue;
    const exact = WORD_BITS.get(word);
    if (exact !== undefined) {
      bits |= exact;
      continue;
    }
    for (const [keyword, keywordBits] of AFFIXES) {
      if (word.startsWith(keyword) || word.endsWith(keyword)) bits |= keywordBits;
    }
  }
  return bits;
}

/** Classes implied by the MCP method itself: listing and reading methods read. */
export function classesOfMethod(method: string): number {
  return /\/(?:read|list|get)$/.test(method) ? CLASS_BIT.read : 0;
}

/** Argument keys (lower case, separators removed) that make the call touch the file system. */
export const PATH_KEY =
  /(?:path|paths|file|files|filename|dir|directory|folder|cwd|workdir|src|source|dest|dst|destination)$/;
/** Argument keys that carry a command line or a program; their strings are always inspected, even multi-line. */
export const COMMAND_KEY =
  /^(?:command|commands|cmd|script|shell|exec|argv|args|code|query|sql|statement|stmt)$/;
/** Argument keys whose presence makes the call execute something. */
export const EXECUTE_KEY = /^(?:command|commands|cmd|script|shell|exec|argv)$/;
/** Argument keys that name a remote endpoint. */
export const HOST_KEY = /(?:url|urls|uri|uris|href|host|hostname|hosts|domain|domains|endpoint|webhook)$/;
/** Argument keys that carry SQL. */
export const SQL_KEY = /^(?:sql|query|statement|stmt)$/;

const SQL_STATEMENT =
  /^\s*(?:select|insert|update|delete|drop|create|alter|truncate|with|replace|merge|grant|revoke)\b/i;
const SQL_WRITE = /\b(?:insert\s+into|update\s+\S+\s+set|create|alter|replace|merge|grant|revoke)\b/i;
const SQL_DESTRUCTIVE = /\b(?:drop\s+(?:table|database|schema|index|view)|truncate|delete\s+from)\b/i;

/** Classes of a SQL string under a SQL-like key; 0 when it does not look like SQL. */
export function classesOfSql(text: string): number {
  if (!SQL_STATEMENT.test(text)) return 0;
  let bits = CLASS_BIT.database;
  if (SQL_WRITE.test(text)) bits |= CLASS_BIT.write;
  if (SQL_DESTRUCTIVE.test(text)) bits |= CLASS_BIT.destructive | CLASS_BIT.write;
  if (/^\s*select\b/i.test(text) && !(bits & CLASS_BIT.write)) bits |= CLASS_BIT.read;
  return bits;
}
