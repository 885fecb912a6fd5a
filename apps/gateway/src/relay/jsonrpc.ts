/** JSON-RPC shapes and the gateway's error codes (stable: clients and SIEM rules match on them). */
export const GATEWAY_ERRORS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  /** The request was refused by the gateway's policy (the message names the policy and the rule). */
  POLICY_DENIED: -32001,
  /** Missing or invalid credential (HTTP 401/403). */
  UNAUTHORIZED: -32002,
  /** No such upstream for the caller's tenant (HTTP 404). */
  UNKNOWN_UPSTREAM: -32003,
  /** Rate limit exceeded (HTTP 429). */
  RATE_LIMITED: -32004,
  /** The upstream could not be reached or failed (HTTP 502/503/504). */
  UPSTREAM_UNAVAILABLE: -32005,
  /** Unknown or foreign `Mcp-Session-Id` (HTTP 404: the client starts a new session). */
  SESSION_NOT_FOUND: -32006,
  /** Body too large (413) or too slow (408). */
  BODY_REFUSED: -32007,
  /** An argument detector found something high-severity (the proxy's code for the same refusal). */
  ARGUMENTS_BLOCKED: -32013,
  /** `--credential-action block`: the upstream's answer held credentials and was withheld (the proxy's code). */
  RESPONSE_BLOCKED: -32015,
  /** 2026-07-28: header and body disagree (HTTP 400). */
  HEADER_MISMATCH: -32020,
  /** 2026-07-28: the protocol revision is not served on this path (HTTP 400). */
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
  INVALID_PARAMS: -32602,
} as const;

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export type ClientMessage =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse };

export type ParseOutcome =
  ClientMessage | { kind: 'invalid'; code: number; reason: string; id: JsonRpcId | null };

/** Parses one client message. Batches are refused: 2025-06-18 removed them and each call must be checked alone. */
export function parseClientMessage(body: Buffer | string): ParseOutcome {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return {
      kind: 'invalid',
      code: GATEWAY_ERRORS.PARSE_ERROR,
      reason: 'the body is not valid JSON',
      id: null,
    };
  }
  if (depthExceeds(value, MAX_DEPTH)) {
    return {
      kind: 'invalid',
      code: GATEWAY_ERRORS.INVALID_REQUEST,
      reason: `the message is nested deeper than ${MAX_DEPTH} levels`,
      id: null,
    };
  }
  if (Array.isArray(value)) {
    return {
      kind: 'invalid',
      code: GATEWAY_ERRORS.INVALID_REQUEST,
      reason: 'JSON-RPC batches are not supported by the gateway',
      id: null,
    };
  }
  if (!value || typeof value !== 'object') return invalid('the body is not a JSON-RPC object', null);
  const msg = value as Record<string, unknown>;
  const id =
    typeof msg.id === 'string' || (typeof msg.id === 'number' && Number.isFinite(msg.id))
      ? (msg.id as JsonRpcId)
      : null;
  if (msg.jsonrpc !== '2.0') return invalid('jsonrpc must be "2.0"', id);
  if (
    msg.params !== undefined &&
    (!msg.params || typeof msg.params !== 'object' || Array.isArray(msg.params))
  ) {
    return invalid('params must be an object', id);
  }
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || !msg.method || msg.method.length > 256)
      return invalid('method must be a string of 1-256 characters', id);
    if (!('id' in msg)) return { kind: 'notification', message: value as JsonRpcNotification };
    if (id === null) return invalid('id must be a string or a number', null);
    if (typeof id === 'string' && id.length > 128) return invalid('id is longer than 128 characters', null);
    return { kind: 'request', message: value as JsonRpcRequest };
  }
  if ('result' in msg || 'error' in msg) {
    if (id === null && msg.id !== null) return invalid('a response needs an id', null);
    return { kind: 'response', message: value as JsonRpcResponse };
  }
  return invalid('neither a request, a notification nor a response', id);
}

/** No MCP message needs more; deeper ones would only exercise recursive code downstream (policy, canonical JSON). */
export const MAX_DEPTH = 64;

/** Whether a parsed JSON value nests objects/arrays deeper than `max`, checked without recursion. */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node as object))
      if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function invalid(reason: string, id: JsonRpcId | null): ParseOutcome {
  return { kind: 'invalid', code: GATEWAY_ERRORS.INVALID_REQUEST, reason, id };
}

export function errorResponse(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** The tool a `tools/call` names, if it names one. */
export function toolOf(message: JsonRpcRequest | JsonRpcNotification): string | undefined {
  const name = message.params?.name;
  return message.method === 'tools/call' && typeof name === 'string' ? name : undefined;
}

/** The client's name, from `initialize` params or a 2026-07-28 `_meta` envelope. */
export function clientNameOf(message: JsonRpcRequest | JsonRpcNotification): string | undefined {
  const params = message.params;
  const info =
    (message.method === 'initialize' ? params?.clientInfo : undefined) ??
    (params?._meta as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/clientInfo'];
  const name = (info as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.length <= 200 ? name : undefined;
}
