/**
 * JSON-RPC error codes the proxy answers with. Stable: clients and SIEM rules match on them. A refusal that means
 * the same thing on the gateway has the gateway's code (`GATEWAY_ERRORS` in apps/gateway: policy denied -32001,
 * rate limited -32004, upstream unavailable -32005, body refused -32007), so one rule or limit reads the same from
 * either runtime surface. Checks only the proxy makes use -32011…-32016. `data.reason_code` repeats the meaning
 * as a word.
 */
export const PROXY_ERROR_CODES = {
  /** The frame is not JSON (or not UTF-8). Standard JSON-RPC. */
  parse_error: -32700,
  /** Not a valid request: batch, bad id, duplicate member names, nesting too deep, id already in flight. */
  invalid_request: -32600,
  /** `tools/call` without a string `name`, or arguments that are not an object. */
  invalid_params: -32602,
  /** A policy rule (local file or control-plane bundle) denied the call. */
  policy_denied: -32001,
  /** `--block-undeclared`: the tool is not in the server's `tools/list`. */
  undeclared_tool: -32011,
  /** The same id and payload were already forwarded inside the replay window. */
  replay: -32012,
  /** An argument detector found something high-severity (or the arguments could not be inspected). */
  arguments_blocked: -32013,
  /** The per-tool rate limit is spent. */
  rate_limited: -32004,
  /** The response held credentials or personal data and `--credential-action block` withheld it. */
  response_blocked: -32015,
  /** The tool changed (or appeared) after the first `tools/list` and drift blocking is on. */
  tool_drift: -32016,
  /** The MCP server exited, or could not be reached, before answering. */
  server_unavailable: -32005,
  /** The request or its response is larger than `--max-frame-bytes`. */
  frame_too_large: -32007,
} as const;
export type ProxyErrorName = keyof typeof PROXY_ERROR_CODES;

export interface ProxyErrorData {
  reason_code: ProxyErrorName;
  reason: string;
  rule_id?: string;
  /** Which policy decided: the local `--policy` file or the control-plane bundle. */
  policy_source?: 'local' | 'control_plane';
  policy_version?: string;
  detectors?: string[];
  trace_id?: string;
  retry_after_ms?: number;
}

/** A refusal decided by the proxy: becomes a JSON-RPC error response for the request's id. */
export interface Refusal {
  name: ProxyErrorName;
  message: string;
  data: ProxyErrorData;
}

export function refusal(
  name: ProxyErrorName,
  message: string,
  extra: Omit<ProxyErrorData, 'reason_code' | 'reason'> = {},
): Refusal {
  return { name, message, data: { reason_code: name, reason: message, ...extra } };
}

/**
 * A JSON-RPC error response as one line. `rawId` is the id exactly as the client wrote it (so a big integer id
 * round-trips) or `null` when there is none.
 */
export function errorLine(rawId: string | null, code: number, message: string, data?: unknown): Buffer {
  const error = data === undefined ? { code, message } : { code, message, data };
  return Buffer.from(`{"jsonrpc":"2.0","id":${rawId ?? 'null'},"error":${JSON.stringify(error)}}\n`);
}

export function refusalLine(rawId: string | null, refused: Refusal): Buffer {
  return errorLine(rawId, PROXY_ERROR_CODES[refused.name], refused.message, refused.data);
}
