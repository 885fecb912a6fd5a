import {
  CLASS_BIT,
  COMMAND_KEY,
  EXECUTE_KEY,
  HOST_KEY,
  PATH_KEY,
  SQL_KEY,
  classesOfSql,
} from './classify.js';
import { hostsInText, hostsOfHostValue } from './egress.js';
import { LIMITS } from './limits.js';
import { MAYBE_SECRET, findSecretPath } from './secret-paths.js';

/** A secret location named by an argument. `text` is the argument string; `locate` finds its JSONPath. */
export interface SecretFinding {
  readonly text: string;
  readonly token: string;
  readonly secret: string;
}

/** A host an argument string would make the tool reach. */
export interface EgressFinding {
  readonly text: string;
  readonly host: string;
}

/** What one bounded walk over a call's arguments learned. */
export interface ArgumentFacts {
  /** Why the walk stopped before seeing everything; null when it saw everything. */
  readonly limit: string | null;
  /** Tool classes suggested by argument keys and values. */
  readonly classes: number;
  readonly secret: SecretFinding | null;
  readonly egress: readonly EgressFinding[];
}

const MULTILINE = /[\r\n]/;

/** What an argument key says about its value, as bits. */
const KEY_COMMAND = 1;
const KEY_PATH = 2;
const KEY_HOST = 4;
const KEY_SQL = 8;
const KEY_EXECUTE = 16;
const KEY_ANY_READ = KEY_COMMAND | KEY_PATH | KEY_HOST;

/** Argument keys repeat endlessly (`path`, `url`…): classify each spelling once. Bounded, reset when full. */
const keyKinds = new Map<string, number>();
const KEY_MEMO_SIZE = 4_096;

function kindOf(name: string): number {
  let kind = keyKinds.get(name);
  if (kind === undefined) {
    const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    kind =
      (COMMAND_KEY.test(key) ? KEY_COMMAND : 0) |
      (PATH_KEY.test(key) ? KEY_PATH : 0) |
      (HOST_KEY.test(key) ? KEY_HOST : 0) |
      (SQL_KEY.test(key) ? KEY_SQL : 0) |
      (EXECUTE_KEY.test(key) ? KEY_EXECUTE : 0);
    if (keyKinds.size >= KEY_MEMO_SIZE) keyKinds.clear();
    keyKinds.set(name, kind);
  }
  return kind;
}

/**
 * Walks call arguments once, within `LIMITS` (depth, values, characters per string and in total, egress
 * targets), collecting the first secret path, every egress host and argument-derived classes.
 *
 * Which strings are read: single-line strings anywhere, and multi-line strings under command-, path- or
 * host-like keys (`command`, `script`, `sql`, `path`, `url`…). Multi-line payloads such as file contents or
 * messages are skipped, so writing a README that mentions `.env` is not a secret access. When `readEverything`
 * is set (tools whose name says they execute code) every string is read.
 *
 * When a limit is hit the walk stops and says why in `limit`; callers must then treat matchers that depend
 * on these facts as indeterminate rather than as "nothing found".
 */
export function inspectArguments(args: unknown, readEverything: boolean): ArgumentFacts {
  const walker = new Walker(args, readEverything);
  walker.visit(args, 0, 0);
  return walker;
}

/**
 * The JSONPath of the first occurrence of a string the walk reported. Searching again on the rare report is
 * cheaper than tracking the path of every value on the common path.
 */
export function locate(root: unknown, target: string): string {
  const trail: Array<string | number> = [];
  let budget = LIMITS.maxArgumentNodes;
  const search = (value: unknown, depth: number): boolean => {
    if (value === target) return true;
    if (--budget < 0 || depth > LIMITS.maxArgumentDepth || typeof value !== 'object' || value === null) {
      return false;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        trail.push(i);
        if (search(value[i], depth + 1)) return true;
        trail.pop();
      }
      return false;
    }
    for (const name of Object.keys(value)) {
      trail.push(name);
      if (search((value as Record<string, unknown>)[name], depth + 1)) return true;
      trail.pop();
    }
    return false;
  };
  if (!search(root, 0)) return '$';
  let path = '$';
  for (const step of trail) {
    path +=
      typeof step === 'number'
        ? `[${step}]`
        : /^[\w$-]+$/.test(step)
          ? `.${step}`
          : `[${JSON.stringify(step)}]`;
  }
  return path;
}

/** The state of one walk. A class rather than closures: one allocation per call on the hot path. */
class Walker implements ArgumentFacts {
  readonly egress: EgressFinding[] = [];
  nodes = 0;
  characters = 0;
  classes = 0;
  secret: SecretFinding | null = null;
  limit: string | null = null;

  constructor(
    private readonly root: unknown,
    private readonly readEverything: boolean,
  ) {}

  visit(value: unknown, kind: number, depth: number): void {
    if (this.limit !== null) return;
    if (++this.nodes > LIMITS.maxArgumentNodes) {
      this.limit = `the arguments hold more than ${LIMITS.maxArgumentNodes} values`;
      return;
    }
    if (depth > LIMITS.maxArgumentDepth) {
      this.limit = `the arguments nest deeper than ${LIMITS.maxArgumentDepth} levels`;
      return;
    }
    switch (typeof value) {
      case 'string':
        this.visitString(value, kind);
        return;
      case 'number':
      case 'boolean':
      case 'undefined':
        return;
      case 'object':
        if (value === null) return;
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length && this.limit === null; i++) this.visit(value[i], kind, depth + 1);
          return;
        }
        for (const name in value) {
          if (this.limit !== null) return;
          if (!Object.hasOwn(value, name)) continue;
          const childKind = kindOf(name);
          if ((childKind & KEY_EXECUTE) !== 0) this.classes |= CLASS_BIT.execute;
          this.visit((value as Record<string, unknown>)[name], childKind, depth + 1);
        }
        return;
      default:
        this.limit = `a value in the arguments is a ${typeof value}, not JSON`;
    }
  }

  private visitString(text: string, kind: number): void {
    if (!this.readEverything && (kind & KEY_ANY_READ) === 0 && MULTILINE.test(text)) return;
    this.characters += text.length;
    if (text.length > LIMITS.maxInspectedString) {
      this.limit = `the string at ${locate(this.root, text)} has ${text.length} characters, more than the ${LIMITS.maxInspectedString} inspected`;
      return;
    }
    if (this.characters > LIMITS.maxInspectedTotal) {
      this.limit = `the arguments hold more than ${LIMITS.maxInspectedTotal} characters to inspect`;
      return;
    }
    if ((kind & KEY_PATH) !== 0 && text !== '') this.classes |= CLASS_BIT.filesystem;
    if (text.startsWith('file:')) this.classes |= CLASS_BIT.filesystem;
    if ((kind & KEY_SQL) !== 0) this.classes |= classesOfSql(text);
    // One scan decides whether the string can name a secret or embed a URL or UNC path at all.
    const suspect = SUSPECT.test(text);
    if (suspect && this.secret === null) {
      const found = findSecretPath(text);
      if (found) this.secret = { text, token: found.token, secret: found.secret };
    }
    const keyHosts = (kind & KEY_HOST) !== 0 ? hostsOfHostValue(text) : NO_HOSTS;
    const textHosts = suspect ? hostsInText(text) : NO_HOSTS;
    if (keyHosts.length === 0 && textHosts.length === 0) return;
    this.classes |= CLASS_BIT.network;
    for (const host of new Set([...keyHosts, ...textHosts])) {
      if (this.egress.length >= LIMITS.maxEgressTargets) {
        this.limit = `the arguments name more than ${LIMITS.maxEgressTargets} URLs or hosts`;
        return;
      }
      this.egress.push({ text, host });
    }
  }
}

const NO_HOSTS: readonly string[] = [];
/** The secret-path quick test plus `://`; backslashes (UNC paths) are already in it. */
const SUSPECT = new RegExp(`${MAYBE_SECRET.source}|://`, 'i');
