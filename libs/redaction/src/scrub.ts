import { SECRET_FORMATS } from './credentials.js';

/**
 * Replaces secret-looking substrings of free text with `[redacted:<kind>]` before anything is stored or hashed.
 *
 * Proxies and gateways must not send secret values (arguments travel as fingerprints), but a `reason` or a tool
 * name can still quote one by accident. The ledger is append-only and exported to SIEMs, so a secret that got in
 * could never be taken out again: we redact on the way in and say so (`redactions` on the event, `redacted` in
 * the ingest result) rather than refuse the batch, which a proxy would retry from its spool forever.
 * The token formats are the CLI's own ({@link SECRET_FORMATS}). Every pattern is linear-time; inputs are bounded
 * (≤ 1000 characters) before they get here.
 */
const PATTERNS: ReadonlyArray<readonly [kind: string, pattern: RegExp, keep?: string]> = [
  ...SECRET_FORMATS,
  ['bearer_token', /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi, '$1 '],
  [
    'credential',
    /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)(\s*[=:]\s*"?)[^\s"',;&]{4,}/gi,
    '$1$2',
  ],
];

export interface Scrubbed {
  text: string;
  /** Kinds found, in pattern order; empty when the text was left alone. */
  kinds: string[];
}

export function scrubSecrets(text: string): Scrubbed {
  const kinds: string[] = [];
  let out = text;
  for (const [kind, pattern, keep] of PATTERNS) {
    pattern.lastIndex = 0;
    if (!pattern.test(out)) continue;
    pattern.lastIndex = 0;
    kinds.push(kind);
    out = out.replace(pattern, `${keep ?? ''}[redacted:${kind}]`);
  }
  return { text: out, kinds };
}
