/**
 * The one table of JSON-RPC error codes the proxy and the gateway answer with. Stable: clients and SIEM rules match
 * on them, and `data.reason_code` repeats the meaning as the word that keys this table. A refusal that means the
 * same thing on both surfaces has one code, so a rule or a limit reads the same from either (policy denied -32001,
 * rate limited -32004, server or upstream unavailable -32005, message refused for its size -32007, argument
 * detectors -32013, answer withheld -32015). docs/proxy.md and docs/gateway.md list exactly the codes of their
 * surface (checked by test/docs/docs-match-code.test.ts).
 */

/** Which runtime surface answers with a code. */
export type WireSurface = 'proxy' | 'gateway';

export interface WireError {
  readonly code: number;
  readonly surfaces: readonly WireSurface[];
  /** When it is sent, in a few words (the docs say more). */
  readonly meaning: string;
}

const both: readonly WireSurface[] = ['proxy', 'gateway'];

export const WIRE_ERRORS = {
  /** Standard JSON-RPC. */
  parse_error: { code: -32700, surfaces: both, meaning: 'the message is not JSON (or not UTF-8)' },
  /** Standard JSON-RPC: batch, bad id, duplicate member names, nesting too deep, id already in flight. */
  invalid_request: { code: -32600, surfaces: both, meaning: 'not a valid JSON-RPC request' },
  /** `tools/call` without a string `name`, or arguments that are not an object. */
  invalid_params: { code: -32602, surfaces: both, meaning: 'a malformed tools/call' },
  /** A policy rule denied the call (the message names the policy and the rule). */
  policy_denied: { code: -32001, surfaces: both, meaning: 'a policy rule denied the call' },
  /** Missing, invalid or insufficient credential (HTTP 401/403), or the control plane cannot confirm it (503). */
  unauthorized: { code: -32002, surfaces: ['gateway'], meaning: 'the credential was refused' },
  /** No such upstream for the caller's tenant (HTTP 404). */
  unknown_upstream: { code: -32003, surfaces: ['gateway'], meaning: 'no such upstream for the tenant' },
  /** A rate limit is spent (the gateway: HTTP 429 with `Retry-After`). */
  rate_limited: { code: -32004, surfaces: both, meaning: 'a rate limit is spent' },
  /** The MCP server (proxy) or the upstream (gateway) exited, failed, timed out or could not be reached. */
  server_unavailable: { code: -32005, surfaces: both, meaning: 'the server or upstream did not answer' },
  /** Unknown or foreign `Mcp-Session-Id` (HTTP 404: the client starts a new session). */
  session_not_found: { code: -32006, surfaces: ['gateway'], meaning: 'unknown or foreign session' },
  /** The message is too large (proxy: `--max-frame-bytes`; gateway: body limit, HTTP 413) or too slow (408). */
  frame_too_large: { code: -32007, surfaces: both, meaning: 'the message was refused for its size' },
  /** `--block-undeclared`: the tool is not in the server's `tools/list`. */
  undeclared_tool: { code: -32011, surfaces: both, meaning: 'the tool was never listed' },
  /** The same id and payload were already forwarded inside the replay window. */
  replay: { code: -32012, surfaces: both, meaning: 'a replayed request' },
  /** An argument detector found something high-severity (or the arguments could not be inspected). */
  arguments_blocked: { code: -32013, surfaces: both, meaning: 'argument detectors refused the call' },
  /** `--credential-action block`: the answer held credentials or personal data and was withheld. */
  response_blocked: { code: -32015, surfaces: both, meaning: 'the answer was withheld' },
  /** The tool changed (or appeared) after the first `tools/list` and drift blocking is on. */
  tool_drift: { code: -32016, surfaces: both, meaning: 'the tool changed after the first listing' },
  /** 2026-07-28: the standard headers and the body disagree (HTTP 400). */
  header_mismatch: { code: -32020, surfaces: ['gateway'], meaning: 'headers and body disagree' },
  /** 2026-07-28: the protocol revision is not served on this path (HTTP 400). */
  unsupported_protocol_version: {
    code: -32022,
    surfaces: ['gateway'],
    meaning: 'the protocol revision is not served on this path',
  },
} as const satisfies Record<string, WireError>;

/** The word of `data.reason_code`. */
export type ReasonCode = keyof typeof WIRE_ERRORS;

/** The JSON-RPC code of each reason: `ERROR_CODES.policy_denied === -32001`. */
export const ERROR_CODES = Object.freeze(
  Object.fromEntries(Object.entries(WIRE_ERRORS).map(([reason, entry]) => [reason, entry.code])),
) as { readonly [K in ReasonCode]: (typeof WIRE_ERRORS)[K]['code'] };

/** The codes one surface answers with, each once, in table order. */
export function codesOf(surface: WireSurface): number[] {
  return Object.values(WIRE_ERRORS as Record<string, WireError>)
    .filter((entry) => entry.surfaces.includes(surface))
    .map((entry) => entry.code);
}

/** The reason code of a code, if the table has it. */
export function reasonOf(code: number): ReasonCode | undefined {
  return (Object.keys(WIRE_ERRORS) as ReasonCode[]).find((reason) => WIRE_ERRORS[reason].code === code);
}
