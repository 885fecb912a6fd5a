import type { Category, Severity } from './types.js';
import { cardBrandValid, ibanValid, jwtHeaderValid, looksRandom, luhnValid } from './validators.js';

/**
 * A credential or personal-data pattern. `regex` is global; when it has a named group `s`, only that group is
 * the secret (the rest is context, e.g. `password=`), otherwise the whole match is. Every regex here is linear:
 * bounded repetitions of single character classes, no nested quantifiers.
 */
export interface TextPattern {
  readonly kind: string;
  readonly category: Exclude<Category, 'argument'>;
  readonly severity: Severity;
  /** What it is, for reasons: "AWS access key id". */
  readonly label: string;
  readonly regex: RegExp;
  /** Checks a candidate further (checksums, structure, randomness); may rename the kind. */
  readonly validate?: (secret: string, match: RegExpExecArray) => boolean;
  /** Not in the default set (too common to redact by default); ask for it by kind. */
  readonly optIn?: true;
  /**
   * Found by the words or structure around the secret (`Bearer`, `password=`, a URL's userinfo), not by the
   * secret's own shape: not one of the {@link TOKEN_KINDS}.
   */
  readonly byContext?: true;
}

const p = (pattern: TextPattern): TextPattern => pattern;
const DB_SCHEMES =
  /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|jdbc:[a-z]+)$/i;

/**
 * Credential patterns, most specific first: where two overlap, the earlier one names the finding. A prefixed
 * token takes the whole run of its characters (up to 1024), so a longer or glued token is never half redacted;
 * its lower bound is the shortest the format is known to take.
 */
export const CREDENTIAL_PATTERNS: readonly TextPattern[] = [
  p({
    kind: 'private_key',
    category: 'credential',
    severity: 'critical',
    label: 'private key',
    // The search for the END line stops at the next `-----`, so attempts at successive BEGIN lines never reread
    // each other's text (a lazy `[\s\S]{0,65536}?` did: quadratic on `-----BEGIN PRIVATE KEY-----!` repeated).
    regex:
      /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?:[^-]|-(?!----)){0,65536}-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:-]{0,65536})/g,
  }),
  p({
    kind: 'aws_access_key_id',
    category: 'credential',
    severity: 'high',
    label: 'AWS access key id',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}(?![A-Za-z0-9])/g,
  }),
  p({
    kind: 'aws_secret_access_key',
    category: 'credential',
    severity: 'critical',
    label: 'AWS secret access key',
    regex:
      /\b(?:aws_?secret_?access_?key|aws_?secret(?:_?key)?|secret_?access_?key|SecretAccessKey)["']?\s{0,5}[:=]\s{0,5}["']?(?<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/dgi,
  }),
  p({
    kind: 'github_token',
    category: 'credential',
    severity: 'critical',
    label: 'GitHub token',
    regex: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,1024}|github_pat_[A-Za-z0-9_]{20,1024})/g,
  }),
  p({
    kind: 'gitlab_token',
    category: 'credential',
    severity: 'critical',
    label: 'GitLab token',
    regex: /(?<![A-Za-z0-9])gl(?:pat|dt|rt|ptt|oas)-[A-Za-z0-9_-]{20,1024}/g,
  }),
  p({
    kind: 'slack_token',
    category: 'credential',
    severity: 'high',
    label: 'Slack token',
    regex: /(?<![A-Za-z0-9])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,1024}/g,
  }),
  p({
    kind: 'slack_webhook',
    category: 'credential',
    severity: 'high',
    label: 'Slack webhook URL',
    regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{20,200}/g,
  }),
  p({
    kind: 'stripe_key',
    category: 'credential',
    severity: 'critical',
    label: 'Stripe secret key',
    regex: /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,1024}/g,
  }),
  p({
    kind: 'anthropic_key',
    category: 'credential',
    severity: 'critical',
    label: 'Anthropic API key',
    regex: /(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{20,1024}/g,
  }),
  p({
    kind: 'openai_key',
    category: 'credential',
    severity: 'critical',
    label: 'OpenAI API key',
    regex: /(?<![A-Za-z0-9])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,1024}/g,
    validate: (secret) => /\d/.test(secret) && /[A-Za-z]/.test(secret.slice(3)),
  }),
  p({
    kind: 'google_api_key',
    category: 'credential',
    severity: 'high',
    label: 'Google API key',
    regex: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35,1024}/g,
  }),
  p({
    kind: 'google_oauth_token',
    category: 'credential',
    severity: 'high',
    label: 'Google OAuth access token',
    regex: /(?<![A-Za-z0-9])ya29\.[0-9A-Za-z_-]{20,2048}/g,
  }),
  p({
    kind: 'npm_token',
    category: 'credential',
    severity: 'high',
    label: 'npm token',
    regex: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36,1024}/g,
  }),
  p({
    kind: 'pypi_token',
    category: 'credential',
    severity: 'high',
    label: 'PyPI token',
    regex: /(?<![A-Za-z0-9])pypi-[A-Za-z0-9_-]{50,1000}/g,
  }),
  p({
    kind: 'huggingface_token',
    category: 'credential',
    severity: 'high',
    label: 'Hugging Face token',
    regex: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,1024}/g,
  }),
  p({
    kind: 'sendgrid_key',
    category: 'credential',
    severity: 'high',
    label: 'SendGrid API key',
    regex: /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{16,128}\.[A-Za-z0-9_-]{16,1024}/g,
  }),
  p({
    kind: 'shopify_token',
    category: 'credential',
    severity: 'high',
    label: 'Shopify token',
    regex: /(?<![A-Za-z0-9])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32,1024}/g,
  }),
  p({
    kind: 'digitalocean_token',
    category: 'credential',
    severity: 'high',
    label: 'DigitalOcean token',
    regex: /(?<![A-Za-z0-9])do[opr]_v1_[a-f0-9]{64,1024}/g,
  }),
  p({
    kind: 'linear_key',
    category: 'credential',
    severity: 'high',
    label: 'Linear API key',
    regex: /(?<![A-Za-z0-9])lin_api_[A-Za-z0-9]{32,1024}/g,
  }),
  p({
    kind: 'notion_token',
    category: 'credential',
    severity: 'high',
    label: 'Notion token',
    regex: /(?<![A-Za-z0-9])(?:ntn|secret)_[A-Za-z0-9]{40,1024}/g,
  }),
  p({
    kind: 'databricks_token',
    category: 'credential',
    severity: 'high',
    label: 'Databricks token',
    regex: /(?<![A-Za-z0-9])dapi[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])/g,
  }),
  p({
    kind: 'vault_token',
    category: 'credential',
    severity: 'high',
    label: 'HashiCorp Vault token',
    regex: /(?<![A-Za-z0-9])hv[sb]\.[A-Za-z0-9_-]{24,200}/g,
  }),
  p({
    kind: 'telegram_bot_token',
    category: 'credential',
    severity: 'high',
    label: 'Telegram bot token',
    regex: /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g,
  }),
  p({
    kind: 'agent_bom_key',
    category: 'credential',
    severity: 'critical',
    label: 'agent-bom API key',
    regex: /(?<![A-Za-z0-9])abom_[A-Za-z0-9_-]{43,1024}/g,
  }),
  p({
    kind: 'azure_storage_key',
    category: 'credential',
    severity: 'critical',
    label: 'Azure storage account key',
    regex: /\bAccountKey=(?<s>[A-Za-z0-9+/]{40,100}={0,2})/dg,
  }),
  p({
    kind: 'azure_sas_signature',
    category: 'credential',
    severity: 'high',
    label: 'Azure shared access signature',
    regex: /[?&;]sig=(?<s>[A-Za-z0-9%+/]{30,200}={0,2})/dg,
  }),
  p({
    kind: 'jwt',
    category: 'credential',
    severity: 'high',
    label: 'JSON Web Token',
    // The header stops before a `-eyJ`/`_eyJ`, where the guard lets a new attempt start, so attempts never reread
    // each other's header (`eyJ-` repeated was quadratic). A payload that is not JSON (`<8+>.<8+>`) is a JWS too.
    regex:
      /(?<![A-Za-z0-9])eyJ(?:[A-Za-z0-9]|[_-](?!eyJ)){10,4096}\.(?:eyJ[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{0,4096}|[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096})/g,
    validate: (secret) => jwtHeaderValid(secret),
  }),
  p({
    kind: 'connection_string',
    category: 'credential',
    severity: 'critical',
    label: 'password in a connection string or URL',
    byContext: true,
    regex:
      /\b(?<scheme>[a-z][a-z0-9+.:-]{1,24}):\/\/[^\s:/?#@'"<>]{1,256}:(?<s>[^\s@/'"<>]{1,256})@(?=[^\s/'"<>@])/dgi,
    validate: (secret, match) =>
      secret !== '' &&
      !/^(?:\*+|x+|<[^>]*>|\$\{[^}]*\}|%[^%]*%|password|pass|secret)$/i.test(secret) &&
      (DB_SCHEMES.test(match.groups?.scheme ?? '') || secret.length >= 3),
  }),
  p({
    kind: 'bearer_token',
    category: 'credential',
    severity: 'high',
    label: 'bearer token',
    byContext: true,
    regex: /\b[Bb]earer[ \t]{1,4}(?<s>[A-Za-z0-9._~+/-]{20,4096}={0,2})/dg,
    validate: (secret) => looksRandom(secret),
  }),
  p({
    kind: 'password_assignment',
    category: 'credential',
    severity: 'high',
    label: 'password or secret assigned in text',
    byContext: true,
    regex:
      /(?<![A-Za-z])(?:password|passwd|pwd|pass|secret|client_?secret|api_?key|apikey|access_?token|auth_?token|private_?key|secret_?key)["']?[ \t]{0,5}[:=][ \t]{0,5}["']?(?<s>[^\s"',;`]{8,256})/dgi,
    validate: (secret) => looksRandom(secret),
  }),
];

/** Personal data patterns, each confirmed by a checksum or a strict format. */
export const PII_PATTERNS: readonly TextPattern[] = [
  p({
    kind: 'credit_card',
    category: 'pii',
    severity: 'high',
    label: 'payment card number',
    regex: /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)/g,
    validate: (secret) => {
      const digits = secret.replace(/[ -]/g, '');
      if (/^(\d)\1+$/.test(digits)) return false;
      const separators = secret.match(/[ -]/g);
      if (separators && new Set(separators).size > 1) return false;
      return cardBrandValid(digits) && luhnValid(digits);
    },
  }),
  p({
    kind: 'us_ssn',
    category: 'pii',
    severity: 'high',
    label: 'US social security number',
    regex: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g,
  }),
  p({
    kind: 'iban',
    category: 'pii',
    severity: 'medium',
    label: 'IBAN',
    regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
    validate: (secret) => ibanValid(secret.replace(/ /g, '')),
  }),
  p({
    kind: 'email',
    category: 'pii',
    severity: 'low',
    label: 'email address',
    regex: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g,
    optIn: true,
  }),
];

export const TEXT_PATTERNS: readonly TextPattern[] = [...CREDENTIAL_PATTERNS, ...PII_PATTERNS];

/** Every kind the credential and PII scans know. */
export const CREDENTIAL_KINDS: readonly string[] = CREDENTIAL_PATTERNS.map((pattern) => pattern.kind);
/**
 * The token formats: credentials told by their own shape (a prefix, a structure), the one list behind the
 * runtime's detectors, the control plane's ledger scrubber and the CLI's `looksLikeSecret` (libs/redaction).
 */
export const TOKEN_KINDS: readonly string[] = Object.freeze(
  CREDENTIAL_PATTERNS.filter((x) => !x.byContext).map((x) => x.kind),
);
export const PII_KINDS: readonly string[] = PII_PATTERNS.map((pattern) => pattern.kind);
/** Kinds scanned when no `kinds` option is given (opt-in kinds, like `email`, excluded). */
export const DEFAULT_TEXT_KINDS: readonly string[] = TEXT_PATTERNS.filter((x) => !x.optIn).map((x) => x.kind);

/** One secret found in a text: its span and pattern. Internal: spans never leave the library. */
export interface TextMatch {
  readonly start: number;
  readonly end: number;
  readonly pattern: TextPattern;
}

/** Quick test: text without any of these can hold none of the patterns. */
const MAYBE =
  /AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|secret|gh[pousr]_|github_pat_|gl[pdro][a-z]{1,2}-|xox|xapp|hooks\.slack|_live_|_test_|sk-|AIza|ya29\.|npm_|pypi-|hf_|SG\.|shp|do[opr]_v1_|lin_api_|ntn_|dapi|hv[sb]\.|:AA|abom_|AccountKey=|sig=|eyJ|:\/\/|earer|pass|pwd|key|token|PRIVATE KEY|\d{3}|[A-Z]{2}\d\d|@/i;

/**
 * Every secret in `text` for the given patterns, as non-overlapping spans in text order. Where two patterns
 * overlap, the one listed first wins (private keys before the tokens inside them, specific before generic).
 */
export function findTextMatches(text: string, patterns: readonly TextPattern[]): TextMatch[] {
  if (!MAYBE.test(text)) return [];
  // Accepted spans, kept sorted by start and non-overlapping, so an overlap test is one binary search.
  const matches: TextMatch[] = [];
  for (const pattern of patterns) {
    const regex = pattern.regex;
    regex.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      if (match[0] === '') {
        regex.lastIndex++;
        continue;
      }
      const [start, end] = match.indices?.groups?.s ?? [match.index, match.index + match[0].length];
      if (pattern.validate && !pattern.validate(text.slice(start, end), match)) continue;
      const at = firstEndingAfter(matches, start);
      if (at < matches.length && matches[at].start < end) continue;
      matches.splice(at, 0, { start, end, pattern });
    }
  }
  return matches;
}

/** Index of the first span whose end is after `position` (spans sorted and disjoint, so ends are sorted too). */
function firstEndingAfter(spans: readonly TextMatch[], position: number): number {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (spans[mid].end <= position) low = mid + 1;
    else high = mid;
  }
  return low;
}

const DEFAULT_PATTERNS = TEXT_PATTERNS.filter((pattern) => !pattern.optIn);
/**
 * Patterns per list of kinds, by content: the same array each time for the same kinds, so its prefilter plan
 * (prefilter.ts) is built once. Bounded: past 64 distinct lists a list is filtered afresh each time.
 */
const chosen = new Map<string, readonly TextPattern[]>();
/**
 * The same, by identity, for frozen lists (constants such as {@link TOKEN_KINDS} and the ledger scrubber's): their
 * content cannot change, so they are not joined into a key on every call (that join and its hash were 7.6% of the
 * control plane's CPU under audit ingest, one per free-text field of every event).
 */
const frozenChosen = new WeakMap<readonly string[], readonly TextPattern[]>();

/** The patterns of the given kinds (unknown kinds are ignored), or the default set. */
export function patternsFor(kinds: readonly string[] | undefined): readonly TextPattern[] {
  if (!kinds) return DEFAULT_PATTERNS;
  let patterns = frozenChosen.get(kinds);
  if (patterns) return patterns;
  const key = kinds.join('\u0000');
  patterns = chosen.get(key);
  if (!patterns) {
    const wanted = new Set(kinds);
    patterns = TEXT_PATTERNS.filter((pattern) => wanted.has(pattern.kind));
    if (chosen.size < 64) chosen.set(key, patterns);
  }
  if (Object.isFrozen(kinds)) frozenChosen.set(kinds, patterns);
  return patterns;
}
