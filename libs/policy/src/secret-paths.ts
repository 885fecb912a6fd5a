/**
 * Secret-path detection. A candidate string is split into tokens the way a shell or a file API would see
 * them, each token is decoded and normalised (percent-encoding, `file://`, backslashes, `.`/`..`, case,
 * Windows trailing dots and alternate data streams), and its path segments are compared with well-known
 * credential locations. Segment comparison, not substring search, so `a/../.ssh/id_rsa`, `./.env`,
 * `%2e%2e/.SSH/ID_RSA` and `C:\Users\me\.aws\credentials` all hit while `src/my.env.ts` does not.
 *
 * Paths are case-folded (macOS and Windows file systems ignore case) but not Unicode-folded: a path spelled
 * with look-alike letters names a different file, so it is not a secret.
 */

/** Directories whose whole content is secret, or sequences of segments naming a secret file. */
const SECRET_SEQUENCES: ReadonlyArray<readonly string[]> = [
  ['.ssh'],
  ['.gnupg'],
  ['.aws'],
  ['.azure'],
  ['.kube', 'config'],
  ['.docker', 'config.json'],
  ['.config', 'gcloud'],
  ['.config', 'gh', 'hosts.yml'],
  ['etc', 'shadow'],
  ['etc', 'gshadow'],
];

/** File names that are secret wherever they are. */
const SECRET_FILES: ReadonlySet<string> = new Set([
  'id_rsa',
  'id_dsa',
  'id_ecdsa',
  'id_ed25519',
  'id_ecdsa_sk',
  'id_ed25519_sk',
  '.npmrc',
  '.pypirc',
  '.netrc',
  '_netrc',
  '.git-credentials',
  '.pgpass',
  '.vault-token',
  '.htpasswd',
]);

/** `.env` and `.env.<anything>` except the conventional secret-free templates. */
const ENV_FILE = /^\.env(?:\.(?!(?:example|sample|template|dist|defaults)$)[^/]+)?$/;

/** Names a glob segment is compared against (`.ss?`, `id_*`, `.e*`). */
const GLOB_TARGETS: readonly string[] = [
  ...new Set([...SECRET_SEQUENCES.map((s) => s[0]), ...SECRET_FILES, '.env']),
];

/**
 * A quick, allocation-free test: strings without any of these can never hit, so most arguments skip the
 * tokeniser. Encoded, quoted, escaped and glob spellings always take the slow path.
 */
export const MAYBE_SECRET =
  /\.(?:env|ssh|aws|azure|gnupg|kube|docker|npmrc|pypirc|netrc|git-credentials|pgpass|vault-token|htpasswd)|id_(?:rsa|dsa|ecdsa|ed25519)|_netrc|shadow|gcloud|hosts\.yml|[%*?[\\'"`]/i;

const TOKEN_SPLIT = /[\s'"`()<>|;&,={}]+/;

/** A secret location named by a string: the token that named it and which secret it is. */
export interface SecretHit {
  readonly token: string;
  readonly secret: string;
}

/** Strings that pass the quick test repeat (commands, SQL with `*`): remember recent slow-path answers. */
const slowPathMemo = new Map<string, SecretHit | null>();
const MEMO_SIZE = 2_048;
const MEMO_MAX_LENGTH = 1_024;

/** The first secret a string names, as `{ token, secret }`, or undefined. */
export function findSecretPath(text: string): SecretHit | undefined {
  if (!MAYBE_SECRET.test(text)) return undefined;
  if (text.length > MEMO_MAX_LENGTH) return scan(text);
  let hit = slowPathMemo.get(text);
  if (hit === undefined) {
    hit = scan(text) ?? null;
    if (slowPathMemo.size >= MEMO_SIZE) slowPathMemo.clear();
    slowPathMemo.set(text, hit);
  }
  return hit ?? undefined;
}

function scan(text: string): SecretHit | undefined {
  // Quotes split tokens above; remove them first too, so shell spellings like .ss''h/id_rsa are seen joined.
  const candidates = new Set([...text.split(TOKEN_SPLIT), ...text.replace(/['"`]/g, '').split(TOKEN_SPLIT)]);
  for (const token of candidates) {
    if (token === '') continue;
    for (const variant of variants(token)) {
      const secret = secretIn(variant);
      if (secret) return Object.freeze({ token, secret });
    }
  }
  return undefined;
}

/** Backslashes read both as Windows separators and as shell escapes (`.ss\h` is `.ssh` to bash). */
function variants(token: string): string[] {
  const decoded = percentDecode(token);
  if (!decoded.includes('\\')) return [decoded];
  return [decoded.replace(/\\/g, '/'), decoded.replace(/\\(.)/g, '$1')];
}

/** Decodes valid `%XX` escapes, up to three layers (`%252e` → `%2e` → `.`); malformed ones stay as they are. */
export function percentDecode(token: string): string {
  let current = token;
  for (let round = 0; round < 3 && current.includes('%'); round++) {
    const next = current.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
    if (next === current) break;
    current = next;
  }
  return current;
}

/** The segments of a path after `file://`/scheme removal, `.` and `..` resolution and Windows clean-up. */
export function pathSegments(path: string): string[] {
  const withoutScheme = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const segments: string[] = [];
  for (const raw of withoutScheme.toLowerCase().split('/')) {
    // Windows ignores trailing dots and spaces and reads "name:stream" as the file "name".
    let segment = withoutTrailingDots(raw);
    const colon = segment.indexOf(':');
    if (colon > 1) segment = segment.slice(0, colon);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments;
}

function secretIn(path: string): string | undefined {
  const segments = pathSegments(path);
  const globs = new GlobCache();
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (SECRET_FILES.has(segment) || ENV_FILE.test(segment)) return segment;
    for (const sequence of SECRET_SEQUENCES) {
      if (sequence.every((part, k) => i + k < segments.length && globs.matches(segments[i + k], part))) {
        return sequence.join('/') + (sequence.length === 1 ? '/' : '');
      }
    }
    if (isGlobSegment(segment)) {
      const target = GLOB_TARGETS.find((name) => globs.matches(segment, name));
      if (target) return `${target} (via glob ${segment})`;
    }
  }
  return undefined;
}

/**
 * `name.` and `name ` are `name` to Windows; a segment of only dots and spaces stays as it is. A loop, not
 * `/[. ]+$/`, which retries from every dot of a long run that does not end the segment.
 */
function withoutTrailingDots(raw: string): string {
  let end = raw.length;
  while (end > 0 && (raw.charCodeAt(end - 1) === 46 /* . */ || raw.charCodeAt(end - 1) === 32)) end--;
  return end === 0 || end === raw.length ? raw : raw.slice(0, end);
}

const isGlobSegment = (segment: string): boolean => /[*?[]/.test(segment);

/**
 * Each glob segment of one path read once (a path can repeat a segment thousands of times) and compared with
 * every name by hand: no regular expression is built from attacker-chosen text.
 */
class GlobCache {
  private readonly read = new Map<string, GlobToken[] | null | undefined>();

  /** A literal segment equals the name; a glob matches it (see `readGlobSegment`). */
  matches(segment: string, name: string): boolean {
    if (segment === name) return true;
    if (!isGlobSegment(segment)) return false;
    let glob = this.read.get(segment);
    if (glob === undefined && !this.read.has(segment)) {
      glob = readGlobSegment(segment);
      this.read.set(segment, glob);
    }
    return glob === undefined || (glob !== null && globMatches(glob, name));
  }
}

/** `*`, one character (`?`, or a literal when `char` is set), or a class of ranges (`[a-z_]`, `[!.]`). */
type GlobToken =
  | { readonly kind: 'star' }
  | { readonly kind: 'one'; readonly char?: number }
  | {
      readonly kind: 'class';
      readonly negated: boolean;
      readonly ranges: ReadonlyArray<readonly [number, number]>;
    };

/** The longest name a glob segment is compared with: a glob that needs more characters matches none. */
const LONGEST_NAME = Math.max(
  ...GLOB_TARGETS.map((n) => n.length),
  ...SECRET_SEQUENCES.flat().map((n) => n.length),
);

/**
 * Shell-style glob over one segment: `*`, `?`, `[abc]`, `[!a-z]`. Null when it can match no name (fewer than
 * two literal characters, so a bare `*` or `?` is not a hit, or more characters than the longest name);
 * undefined when a class cannot be read (`[z-a]`), which counts as a hit. One pass: an unclosed `[` is a literal,
 * `[` after the last `]` is never searched for a close, a run of `*` is one `*`, and reading stops once the glob
 * needs more characters than any name has.
 */
function readGlobSegment(glob: string): GlobToken[] | null | undefined {
  const lastClose = glob.lastIndexOf(']');
  const tokens: GlobToken[] = [];
  let literals = 0;
  let needs = 0;
  let unreadable = false;
  for (let i = 0; i < glob.length && needs <= LONGEST_NAME; i++) {
    const char = glob.charCodeAt(i);
    if (char === 42 /* * */) {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (char === 63 /* ? */) {
      tokens.push({ kind: 'one' });
      needs++;
    } else if (char === 91 /* [ */ && i < lastClose) {
      const close = glob.indexOf(']', i + 1);
      const inner = glob.slice(i + 1, close);
      i = close;
      if (inner === '') {
        // `[]` is the two characters, but as before it does not count towards the two literals.
        tokens.push({ kind: 'one', char: 91 }, { kind: 'one', char: 93 });
        needs += 2;
        continue;
      }
      const token = readClass(inner);
      if (token === undefined) unreadable = true;
      else tokens.push(token);
      needs++;
    } else {
      tokens.push({ kind: 'one', char });
      literals++;
      needs++;
    }
  }
  if (literals < 2 || needs > LONGEST_NAME) return null;
  return unreadable ? undefined : tokens;
}

/**
 * A class's inside, read the way the regular expression it used to be built as (`[...]`, `!` → `^`, no escapes)
 * reads it: a leading `!` or `^` negates, `a-z` is a range, `-` first or last is itself. Undefined for a range
 * that runs backwards.
 */
function readClass(inner: string): GlobToken | undefined {
  const negated = inner[0] === '!' || inner[0] === '^';
  const ranges: Array<[number, number]> = [];
  for (let i = negated ? 1 : 0; i < inner.length; i++) {
    const low = inner.charCodeAt(i);
    if (inner[i + 1] === '-' && i + 2 < inner.length) {
      const high = inner.charCodeAt(i + 2);
      if (low > high) return undefined;
      ranges.push([low, high]);
      i += 2;
    } else ranges.push([low, low]);
  }
  return { kind: 'class', negated, ranges };
}

/** Glob against a name (no `/` in either): one `*` backtracked at a time, so linear in the name per `*`. */
function globMatches(tokens: readonly GlobToken[], name: string): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token !== undefined && token.kind !== 'star' && oneMatches(token, name.charCodeAt(n))) {
      t++;
      n++;
    } else if (token?.kind === 'star') {
      star = t++;
      resume = n;
    } else if (star >= 0) {
      t = star + 1;
      n = ++resume;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

function oneMatches(token: Exclude<GlobToken, { kind: 'star' }>, char: number): boolean {
  if (token.kind === 'one') return token.char === undefined || token.char === char;
  const inside = token.ranges.some(([low, high]) => char >= low && char <= high);
  return inside !== token.negated;
}
