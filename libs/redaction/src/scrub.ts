import { redactText, TOKEN_KINDS } from '../../detectors/src/index.js';

/**
 * Replaces secret-looking substrings of free text with `[redacted:<kind>]` before anything is stored or hashed.
 *
 * Proxies and gateways must not send secret values (arguments travel as fingerprints), but a `reason` or a tool
 * name can still quote one by accident. The ledger is append-only and exported to SIEMs, so a secret that got in
 * could never be taken out again: we redact on the way in and say so (`redactions` on the event, `redacted` in
 * the ingest result) rather than refuse the batch, which a proxy would retry from its spool forever.
 *
 * The token formats are the runtime detectors' ({@link TOKEN_KINDS}, libs/detectors), with the same kinds, plus
 * a password in a URL's userinfo; then two rules wider than the detectors' (which also want the value to look
 * random), because a false positive here only hides a word: any `Bearer|Basic <12+ characters>` and any
 * `password=…`-style assignment of 4+ characters. Every pattern is linear-time (the spec floods each one).
 */
/** Frozen, so the detectors find its patterns by identity (`patternsFor`). */
const SCRUBBED_KINDS: readonly string[] = Object.freeze([...TOKEN_KINDS, 'connection_string']);
const marker = (kind: string) => `[redacted:${kind}]`;

const CONTEXT_RULES: ReadonlyArray<readonly [kind: string, pattern: RegExp, keep: string]> = [
  ['bearer_token', /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi, '$1 '],
  [
    'password_assignment',
    /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)(\s*[=:]\s*"?)[^\s"',;&]{4,}/gi,
    '$1$2',
  ],
];

export interface Scrubbed {
  text: string;
  /** Kinds found, each once: token formats in text order, then `bearer_token`, `password_assignment`. */
  kinds: string[];
}

export function scrubSecrets(text: string): Scrubbed {
  const tokens = redactText(text, { kinds: SCRUBBED_KINDS, marker });
  const kinds = tokens.kinds;
  let out = tokens.text;
  for (const [kind, pattern, keep] of CONTEXT_RULES) {
    pattern.lastIndex = 0;
    if (!pattern.test(out)) continue;
    pattern.lastIndex = 0;
    if (!kinds.includes(kind)) kinds.push(kind);
    out = out.replace(pattern, `${keep}${marker(kind)}`);
  }
  return { text: out, kinds };
}
