import { entropyBitsPerChar, scanCredentials, TOKEN_KINDS } from '../../detectors/src/index.js';

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

/** An Authorization value in a config value (`Token` too: free text says "token budget", configs do not). */
const AUTHORIZATION_VALUE = /\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/i;

/**
 * A token format anywhere in the text: the runtime detectors' own list ({@link TOKEN_KINDS}, libs/detectors),
 * the one the proxy and gateway redact answers with and the ledger scrubs with. A password in a URL is not
 * counted here: `sanitizeUrl` removes it and keeps the rest of the URL.
 */
function hasKnownFormat(text: string): boolean {
  return (
    AUTHORIZATION_VALUE.test(text) ||
    scanCredentials(text, { kinds: TOKEN_KINDS, maxFindings: 1 }).findings.length > 0
  );
}

/** A value that refers to a secret held elsewhere rather than holding one: `${GITHUB_TOKEN}`, `{{key}}`, `<your key>`. */
const PLACEHOLDER = /^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|<[^>]*>)$/;

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
 * Whether a value looks like a secret: a known token format anywhere in it (the detectors' list: GitHub, OpenAI,
 * Slack, AWS, Google, Stripe, JWTs, PEM private keys, …), an Authorization value (`Bearer …`), or a long
 * high-entropy run. Placeholders such as
 * `${TOKEN}` are references, not secrets. Biased toward "yes": a false positive only hides a value.
 */
export function looksLikeSecret(value: string): boolean {
  const text = value.trim();
  if (text.length < 8 || PLACEHOLDER.test(text)) return false;
  if (hasKnownFormat(text)) return true;
  return hasHighEntropyRun(text);
}
