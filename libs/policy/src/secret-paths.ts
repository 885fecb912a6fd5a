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
    let segment = raw.replace(/[. ]+$/, (tail) => (raw === tail ? tail : ''));
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
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (SECRET_FILES.has(segment) || ENV_FILE.test(segment)) return segment;
    for (const sequence of SECRET_SEQUENCES) {
      if (sequence.every((part, k) => i + k < segments.length && segmentMatches(segments[i + k], part))) {
        return sequence.join('/') + (sequence.length === 1 ? '/' : '');
      }
    }
    if (isGlobSegment(segment)) {
      const target = GLOB_TARGETS.find((name) => globSegmentMatches(segment, name));
      if (target) return `${target} (via glob ${segment})`;
    }
  }
  return undefined;
}

function segmentMatches(segment: string, name: string): boolean {
  return segment === name || (isGlobSegment(segment) && globSegmentMatches(segment, name));
}

const isGlobSegment = (segment: string): boolean => /[*?[]/.test(segment);

/** Shell-style glob over one segment. Needs two literal characters, so a bare `*` or `?` is not a hit. */
function globSegmentMatches(glob: string, name: string): boolean {
  const literals = glob.replace(/\[[^\]]*\]|[*?]/g, '');
  if (literals.length < 2) return false;
  const source = glob
    .split(/(\[[^\]]*\]|\*|\?)/)
    .map((part) => {
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      if (part.startsWith('[') && part.endsWith(']') && part.length > 2) {
        return `[${part
          .slice(1, -1)
          .replace(/^!/, '^')
          .replace(/[\\\]]/g, '\\$&')}]`;
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  try {
    return new RegExp(`^${source}$`).test(name);
  } catch {
    return true;
  }
}
