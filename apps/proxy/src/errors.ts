import { errorLine, ERROR_CODES, type ReasonCode } from '../../../libs/runtime/src/index.js';

/**
 * The proxy's refusals. The codes come from the one table of both runtime surfaces (`WIRE_ERRORS` in
 * libs/runtime): a refusal that means the same on the gateway has the same code, and `data.reason_code` repeats
 * the meaning as the table's word.
 */
export type ProxyErrorName = ReasonCode;

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

/** A refusal as one JSON-RPC error line; `rawId` is the id exactly as the client wrote it, or `null`. */
export function refusalLine(rawId: string | null, refused: Refusal): Buffer {
  return errorLine(rawId, ERROR_CODES[refused.name], refused.message, refused.data);
}
