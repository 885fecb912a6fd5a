/**
 * Which names and values carry credentials.
 *
 * Security invariant: these functions only *classify*. The inventory keeps the NAME of a credential-bearing
 * environment variable or header; a value is read only to decide whether it looks like a secret and is then
 * dropped. Nothing here returns, logs or stores a value.
 */

/**
 * Splits a name into lower-case words on `_`, `-`, `.`, spaces and camelCase boundaries:
 * `GITHUB_PERSONAL_ACCESS_TOKEN` → github personal access token, `X-Api-Key` → x api key,
 * `githubToken` → github token, `APIKey` → api key.
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/** Words that mean "this names a secret" on their own. `tokens` is absent on purpose (MAX_TOKENS). */
const CREDENTIAL_WORDS = new Set([
  'token',
  'secret',
  'secrets',
  'password',
  'passwords',
  'passwd',
  'pass',
  'passphrase',
  'pwd',
  'apikey',
  'apikeys',
  'key',
  'keys',
  'credential',
  'credentials',
  'cred',
  'creds',
  'auth',
  'authorization',
  'bearer',
  'pat',
  'jwt',
  'cookie',
  'cookies',
  'dsn',
]);

/** Single words that end in a credential word: `PGPASSWORD`, `GITHUBTOKEN`, `accesstoken`. */
const CREDENTIAL_SUFFIXES = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'credential',
  'credentials',
];

/**
 * Adjacent word pairs that name a credential even though neither word does alone (or though a qualifier
 * would otherwise cancel it): connection strings and database URLs embed passwords, webhook URLs embed their
 * secret, an AWS access key id is half of a key pair.
 */
const CREDENTIAL_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['access', 'key'],
  ['secret', 'key'],
  ['private', 'key'],
  ['client', 'secret'],
  ['connection', 'string'],
  ['conn', 'str'],
  ['connection', 'url'],
  ['connection', 'uri'],
  ['database', 'url'],
  ['database', 'uri'],
  ['db', 'url'],
  ['db', 'uri'],
  ['mongo', 'url'],
  ['mongo', 'uri'],
  ['mongodb', 'url'],
  ['mongodb', 'uri'],
  ['redis', 'url'],
  ['postgres', 'url'],
  ['postgresql', 'url'],
  ['pg', 'url'],
  ['mysql', 'url'],
  ['amqp', 'url'],
  ['rabbitmq', 'url'],
  ['webhook', 'url'],
];

/**
 * Words that, AFTER the credential word, say the variable describes a credential rather than holding one:
 * `TOKEN_LIMIT`, `API_KEY_HEADER` (the header's name), `SECRET_NAME`, `AUTH_MODE`, `TOKEN_URL` (an OAuth
 * endpoint), `KEY_ID`. Locators (`_FILE`, `_PATH`, `_DIR`) are deliberately NOT here: a variable that points at
 * a key file is credential-backed.
 */
const DESCRIPTORS = new Set([
  'max',
  'min',
  'limit',
  'limits',
  'count',
  'size',
  'length',
  'len',
  'ttl',
  'timeout',
  'expiry',
  'expires',
  'expiration',
  'lifetime',
  'age',
  'days',
  'hours',
  'minutes',
  'seconds',
  'interval',
  'rotation',
  'prefix',
  'suffix',
  'type',
  'types',
  'mode',
  'format',
  'algorithm',
  'alg',
  'kind',
  'enabled',
  'enable',
  'disabled',
  'disable',
  'required',
  'policy',
  'status',
  'version',
  'header',
  'headers',
  'name',
  'names',
  'field',
  'param',
  'parameter',
  'env',
  'var',
  'variable',
  'url',
  'uri',
  'endpoint',
  'host',
  'hostname',
  'port',
  'issuer',
  'audience',
  'scope',
  'scopes',
  'provider',
  'method',
  'methods',
  'strategy',
  'id',
  'ids',
  'usage',
  'budget',
  'encoding',
  'layout',
  'binding',
  'bindings',
  'map',
  'mapping',
  'hint',
  'label',
  'description',
  'help',
  'placeholder',
  'server',
  'service',
]);

/** Words that, BEFORE the credential word, negate or qualify it: `NO_AUTH`, `MAX_TOKEN`, `SKIP_AUTH`. */
const NEGATORS = new Set([
  'no',
  'skip',
  'disable',
  'disabled',
  'enable',
  'enabled',
  'require',
  'required',
  'use',
  'max',
  'min',
  'allow',
  'insecure',
  'num',
  'number',
]);

/**
 * Whether an environment variable, header, query parameter or flag NAME looks credential-bearing.
 *
 * The rule, in order:
 * 1. Split into words (see {@link nameWords}); `PWD` alone is the shell's working directory, not a credential.
 * 2. Find the last credential position: a credential word (`token`, `secret`, `password`, `key`, `auth`, `pat`,
 *    `bearer`, `credentials`, `dsn`, …), a single word ending in one (`pgpassword`), or a credential pair
 *    (`database url`, `access key`, `client secret`, `webhook url`, …).
 * 3. A descriptor after it (`limit`, `mode`, `header`, `name`, `url`, `id`, …) means it only describes a
 *    credential: not credential-bearing (a pair keeps a trailing `id`: `AWS_ACCESS_KEY_ID`). A negator before
 *    it (`no`, `max`, `skip`, …) likewise, unless the match is a pair; `public` right before (`PUBLIC_KEY`) too.
 */
export function isCredentialName(name: string): boolean {
  const words = nameWords(name);
  if (words.length === 0) return false;
  if (words.length === 1 && words[0] === 'pwd') return false;

  let last = -1;
  let viaPair = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (
      CREDENTIAL_WORDS.has(word) ||
      CREDENTIAL_SUFFIXES.some((s) => word.length > s.length && word.endsWith(s))
    ) {
      last = i;
      viaPair = false;
    }
    if (i > 0 && CREDENTIAL_PAIRS.some(([a, b]) => words[i - 1] === a && word === b)) {
      last = i;
      viaPair = true;
    }
  }
  if (last < 0) return false;
  // `AWS_ACCESS_KEY_ID`: the id of a key pair is kept with its secret half.
  const after = words.slice(last + 1).filter((word) => !(viaPair && word === 'id'));
  if (after.some((word) => DESCRIPTORS.has(word))) return false;
  if (viaPair) return true;
  if (words.slice(0, last).some((word) => NEGATORS.has(word))) return false;
  // `PUBLIC_KEY` is not a secret; `NEXT_PUBLIC_SUPABASE_ANON_KEY` still is.
  return words[last - 1] !== 'public';
}

/**
 * Formats of well-known credentials, each with the kind a redaction names (`[redacted:<kind>]`): the one table
 * behind both {@link looksLikeSecret} (the CLI's values) and `scrubSecrets` (the control plane's free text).
 * Global and linear-time; a match spans the whole secret (a PEM key up to its END line), so it can be replaced.
 */
export const SECRET_FORMATS: ReadonlyArray<readonly [kind: string, pattern: RegExp]> = [
  ['private_key', /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g],
  ['agent_bom_key', /abom_[A-Za-z0-9_-]{16,}/g],
  ['aws_access_key', /(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9])/g],
  ['github_token', /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})/g],
  ['gitlab_token', /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}/g],
  ['slack_token', /(?<![A-Za-z0-9])(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}/g],
  ['api_key', /(?<![A-Za-z0-9])sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{20,}/g], // OpenAI, Anthropic
  ['google_api_key', /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}/g],
  ['google_oauth_token', /(?<![A-Za-z0-9])ya29\.[0-9A-Za-z_-]{20,}/g],
  ['npm_token', /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}/g],
  ['pypi_token', /(?<![A-Za-z0-9])pypi-[A-Za-z0-9_-]{50,}/g],
  ['stripe_key', /(?<![A-Za-z0-9])[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}/g],
  ['sendgrid_key', /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g],
  ['huggingface_token', /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}/g],
  ['shopify_token', /(?<![A-Za-z0-9])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}/g],
  ['digitalocean_token', /(?<![A-Za-z0-9])dop_v1_[a-f0-9]{64}/g],
  ['linear_key', /(?<![A-Za-z0-9])lin_api_[A-Za-z0-9]{32,}/g],
  ['notion_token', /(?<![A-Za-z0-9])(?:ntn|secret)_[A-Za-z0-9]{40,}/g],
  [
    'jwt',
    /(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{5,}\.(?:eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g,
  ],
];

/** An Authorization value in a config value (`Token` too: free text says "token budget", configs do not). */
const AUTHORIZATION_VALUE = /\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/i;

function hasKnownFormat(text: string): boolean {
  return (
    AUTHORIZATION_VALUE.test(text) ||
    SECRET_FORMATS.some(([, pattern]) => {
      pattern.lastIndex = 0;
      return pattern.test(text);
    })
  );
}

/** A value that refers to a secret held elsewhere rather than holding one: `${GITHUB_TOKEN}`, `{{key}}`, `<your key>`. */
const PLACEHOLDER = /^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|<[^>]*>)$/;

function entropyBitsPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A long random-looking run of letters and digits: at least 24 alphanumerics mixing letters and digits with
 * high character entropy, after splitting on the usual separators (so `my-project-name-2024` and UUIDs do not
 * match, a 40-character API key or a 32-character hex secret does).
 */
function hasHighEntropyRun(value: string): boolean {
  for (const piece of value.split(/[^A-Za-z0-9]+/)) {
    if (piece.length < 24 || piece.length > 4096) continue;
    if (!/[0-9]/.test(piece) || !/[A-Za-z]/.test(piece)) continue;
    if (entropyBitsPerChar(piece) >= 3.5) return true;
  }
  return false;
}

/**
 * Whether a value looks like a secret: a known credential format anywhere in it (GitHub, OpenAI, Slack, AWS,
 * Google, Stripe, JWTs, PEM private keys, `Bearer …`), or a long high-entropy run. Placeholders such as
 * `${TOKEN}` are references, not secrets. Biased toward "yes": a false positive only hides a value.
 */
export function looksLikeSecret(value: string): boolean {
  const text = value.trim();
  if (text.length < 8 || PLACEHOLDER.test(text)) return false;
  if (hasKnownFormat(text)) return true;
  return hasHighEntropyRun(text);
}
