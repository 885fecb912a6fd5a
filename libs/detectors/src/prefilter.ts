import { hash } from 'node:crypto';
import { findTextMatches, type TextMatch, type TextPattern } from './credentials.js';

/**
 * A prefilter in front of the credential and personal-data patterns: each pattern has an **anchor**, a short
 * regex that every match of the pattern contains (a literal prefix such as `ghp_`, `AKIA`, `eyJ`, or the shape a
 * match cannot do without, such as 13 digits for a card number). A text in which a pattern's anchor does not occur
 * cannot hold a match of that pattern, so the pattern is not run; a text in which no anchor occurs is done after
 * one regex test. Skipping a pattern that cannot match changes nothing else: where patterns overlap the earlier
 * one still wins, because a pattern with no match never claims a span.
 *
 * An anchor holds for the exact regex it was written against (its digest below): when a pattern's regex changes,
 * its anchor is no longer used and the pattern always runs, until the anchor is checked and the digest updated
 * (prefilter.spec.ts names the patterns whose anchor lapsed). A pattern without an anchor always runs. Anchors use
 * no assertions (`^ $ \b`, lookarounds), so an anchor absent from a whole JSON text is absent from every string
 * literal in it.
 */
const ANCHORS: Readonly<Record<string, { readonly digest: string; readonly anchor: RegExp }>> = {
  private_key: { digest: '0573e99877d60f9c', anchor: /PRIVATE KEY/ },
  aws_access_key_id: { digest: 'f826f23ce0c8eab2', anchor: /AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA/ },
  aws_secret_access_key: { digest: '438904277b0ff231', anchor: /secret/i },
  github_token: { digest: '366fe3060371acb0', anchor: /gh[pousr]_|github_pat_/ },
  gitlab_token: { digest: 'd76b1323700fe520', anchor: /gl(?:pat|dt|rt|ptt|oas)-/ },
  slack_token: { digest: 'fcb50b95fe195827', anchor: /xox[abposre]-|xapp-/ },
  slack_webhook: { digest: '99783287c9889479', anchor: /https:\/\/hooks\.slack\.com\// },
  stripe_key: { digest: '24b0463fbc3f38e9', anchor: /(?:sk|rk)_(?:live|test)_/ },
  anthropic_key: { digest: 'b6a80e46143980a7', anchor: /sk-ant-/ },
  openai_key: { digest: '7e0f5c43351a8612', anchor: /sk-/ },
  google_api_key: { digest: 'f66e96c4e9dfee8b', anchor: /AIza/ },
  google_oauth_token: { digest: '05e01c2863e8d01b', anchor: /ya29\./ },
  npm_token: { digest: '70317a5c09d92a15', anchor: /npm_/ },
  pypi_token: { digest: '14f01262e839d69b', anchor: /pypi-/ },
  huggingface_token: { digest: '16c9147a476c62a7', anchor: /hf_/ },
  sendgrid_key: { digest: 'dd53074078a6fa30', anchor: /SG\./ },
  shopify_token: { digest: 'f07f0a3d3de6ba22', anchor: /shp(?:at|ss|ca|pa)_/ },
  digitalocean_token: { digest: '60e89b765be8820e', anchor: /do[opr]_v1_/ },
  linear_key: { digest: 'ec92aca73c6d42ce', anchor: /lin_api_/ },
  notion_token: { digest: 'af1a874d9e407cd3', anchor: /ntn_|secret_/ },
  databricks_token: { digest: 'acac218d228756e3', anchor: /dapi/ },
  vault_token: { digest: 'e168e735e846be20', anchor: /hv[sb]\./ },
  telegram_bot_token: { digest: '7add0697117f7a57', anchor: /\d:AA/ },
  agent_bom_key: { digest: '4beaf68de87ae507', anchor: /abom_/ },
  azure_storage_key: { digest: '37ad07fe842beaf8', anchor: /AccountKey=/ },
  azure_sas_signature: { digest: '3e28626bcc965bc6', anchor: /[?&;]sig=/ },
  jwt: { digest: 'd9f4188c052b2d6f', anchor: /eyJ/ },
  // userinfo: 1-256 characters, ':', 1-256 characters, none of them whitespace, '/' or '@' (so the window
  // after one '://' ends at the next '/', instead of reading 513 characters from every '://' of `x://x://…`).
  connection_string: { digest: '47ca568b080c32e8', anchor: /:\/\/[^\s/@]{3,513}@/ },
  bearer_token: { digest: '9a4cd92009029504', anchor: /[Bb]earer[ \t]/ },
  // Every key word of the pattern ends in one of these, and `["']?[ \t]{0,5}[:=]` follows it.
  password_assignment: {
    digest: '9a39e314777a4473',
    anchor: /(?:password|passwd|pwd|pass|secret|key|token)["']?[ \t]{0,5}[:=]/i,
  },
  credit_card: { digest: '1e878b771ad18c7f', anchor: /\d(?:[ -]?\d){12}/ },
  us_ssn: { digest: '253ea2e4b80c7d32', anchor: /\d{3}-\d{2}-\d{4}/ },
  iban: { digest: 'd075fd3554d6f5cf', anchor: /[A-Z]{2}\d{2}/ },
  email: { digest: 'f154ea268aec4376', anchor: /@/ },
};

/** The first 16 hex digits of sha256 over a regex's source and flags: what an anchor was written against. */
export function regexDigest(regex: RegExp): string {
  return hash('sha256', `${regex.source}/${regex.flags}`, 'hex').slice(0, 16);
}

/** The anchor in force for a pattern: undefined when it has none or its regex changed since it was written. */
export function anchorOf(pattern: TextPattern): RegExp | undefined {
  const entry = ANCHORS[pattern.kind];
  return entry && entry.digest === regexDigest(pattern.regex) ? entry.anchor : undefined;
}

interface Plan {
  readonly entries: ReadonlyArray<{ readonly pattern: TextPattern; readonly anchor?: RegExp }>;
  /** Some pattern has no anchor: it runs on every text. */
  readonly unanchored: boolean;
  /** Every anchor in one test (case-sensitive ones, case-insensitive ones): none matches, no pattern can. */
  readonly any: readonly RegExp[];
}

const plans = new WeakMap<readonly TextPattern[], Plan>();

function planFor(patterns: readonly TextPattern[]): Plan {
  let plan = plans.get(patterns);
  if (plan) return plan;
  const entries = patterns.map((pattern) => ({ pattern, anchor: anchorOf(pattern) }));
  const anchors = entries.flatMap((entry) => (entry.anchor ? [entry.anchor] : []));
  const any: RegExp[] = [];
  for (const flags of ['', 'i']) {
    const sources = anchors.filter((a) => a.flags === flags).map((a) => `(?:${a.source})`);
    if (sources.length > 0) any.push(new RegExp(sources.join('|'), flags));
  }
  plan = { entries, unanchored: entries.some((entry) => !entry.anchor), any };
  plans.set(patterns, plan);
  return plan;
}

/** False when no match of `patterns` can occur anywhere in `text` (no anchor occurs in it, none is missing). */
export function mayMatch(text: string, patterns: readonly TextPattern[]): boolean {
  const plan = planFor(patterns);
  return plan.unanchored || anyAnchor(plan, text);
}

/** Whether one of the plan's combined anchors occurs in `text` (a loop: `some` took a closure per string). */
function anyAnchor(plan: Plan, text: string): boolean {
  for (let k = 0; k < plan.any.length; k++) if (plan.any[k].test(text)) return true;
  return false;
}

/** No match: one frozen empty list, not an array per string scanned (callers only read it). */
const NO_MATCHES: readonly TextMatch[] = Object.freeze([]);

/**
 * `findTextMatches(text, patterns)`, running only the patterns whose anchor occurs in `text`: the same matches,
 * in the same order (prefilter.spec.ts runs every detector test string through both).
 */
export function findMatches(text: string, patterns: readonly TextPattern[]): readonly TextMatch[] {
  const plan = planFor(patterns);
  if (!plan.unanchored && !anyAnchor(plan, text)) return NO_MATCHES;
  const candidates: TextPattern[] = [];
  for (const { pattern, anchor } of plan.entries) if (!anchor || anchor.test(text)) candidates.push(pattern);
  return candidates.length === 0 ? NO_MATCHES : findTextMatches(text, candidates);
}
