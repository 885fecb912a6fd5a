import { ERROR_CODES } from './errors.js';
import { scanShape, type FrameShape } from './jsonrpc-shape.js';

/**
 * The one JSON-RPC reader of the proxy and the gateway: what a client message is (request, notification,
 * response, batch) and what is wrong with it, decided the same way on both surfaces before any policy check. The
 * transports (the proxy's stdio framing, the gateway's HTTP body) only turn the outcome into their answer.
 */

/** A JSON-RPC id as JSON.parse gives it: requests must use a string or a number. */
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

/**
 * Deepest nesting of objects and arrays accepted in a client message. No MCP message needs more; deeper ones
 * would only exercise recursive code downstream (JSON.stringify, policy, canonical JSON) — a 5,000-deep body once
 * overflowed the gateway's stack.
 */
export const MAX_JSON_DEPTH = 128;
/** Longest method name and string id accepted (no MCP method or SDK id comes near). */
export const MAX_METHOD_LENGTH = 256;
export const MAX_ID_LENGTH = 128;

export function isRpcId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Map key of an id, so `1` and `"1"` stay distinct. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a method is a request method: everything but `notifications/*`. A request method sent without an id
 * would reach the server unchecked (policy, rate limits, replay and audit key on requests), and its sender could
 * never see the answer: both surfaces refuse it.
 */
export function namesRequestMethod(method: string): boolean {
  return !method.startsWith('notifications/');
}

/** What one client message is, decided before any policy check. */
export type ClientMessage =
  | { readonly kind: 'blank' }
  /**
   * Refused. `code` is -32700 or -32600; `answerable` unless it reads as a notification or a response (a broken
   * one is only dropped: nobody waits for an answer). `rawId` is the id exactly as written, `id` its value.
   */
  | {
      readonly kind: 'invalid';
      readonly code: number;
      readonly problem: string;
      readonly answerable: boolean;
      readonly id?: JsonRpcId;
      readonly rawId?: string;
    }
  /** A batch (removed in 2025-06-18; each call must be checked alone): the items, for the answer. */
  | { readonly kind: 'batch'; readonly items: readonly unknown[] }
  /** The client answering a server request (sampling, elicitation, roots). */
  | { readonly kind: 'response'; readonly id: JsonRpcId | null; readonly value: Record<string, unknown> }
  | { readonly kind: 'notification'; readonly method: string; readonly value: Record<string, unknown> }
  | {
      readonly kind: 'request';
      readonly id: JsonRpcId;
      /** The id exactly as written, for answers made by the hop (a big integer id round-trips). */
      readonly rawId: string;
      readonly method: string;
      readonly params: Record<string, unknown> | undefined;
      readonly value: Record<string, unknown>;
      /** The message text and where its members are, to splice into it without re-serialising it. */
      readonly text: string;
      readonly shape: FrameShape;
    };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one client message strictly: valid UTF-8 (a lax decoder downstream could read it differently), valid
 * JSON, one JSON-RPC 2.0 object, ids that are strings or numbers, `params` an object, no member name twice in one
 * object (parsers disagree on which one wins, so a hop could check one value while the server uses the other),
 * nesting within `MAX_JSON_DEPTH`.
 */
export function readClientMessage(bytes: Uint8Array | string): ClientMessage {
  if (isBlank(bytes)) return { kind: 'blank' };
  let text: string;
  if (typeof bytes === 'string') text = bytes;
  else {
    try {
      text = UTF8.decode(bytes);
    } catch {
      const lenient = Buffer.from(bytes).toString('utf8');
      const rawId = requestIdOf(lenient);
      return rawId
        ? invalid(ERROR_CODES.invalid_request, 'the message is not valid UTF-8', true, rawId)
        : invalid(ERROR_CODES.parse_error, 'the message is not JSON', true);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(ERROR_CODES.parse_error, 'the message is not JSON', true);
  }
  if (Array.isArray(value)) return { kind: 'batch', items: value };
  if (!isObject(value)) return invalid(ERROR_CODES.invalid_request, 'not a JSON-RPC object', true);

  const shape = scanShape(text);
  const idSpan = shape.root.get('id');
  const id = isRpcId(value.id) ? value.id : undefined;
  const rawId = idSpan && id !== undefined ? text.slice(idSpan.start, idSpan.end) : undefined;
  const problem =
    shape.depth > MAX_JSON_DEPTH
      ? `nesting deeper than ${MAX_JSON_DEPTH} levels`
      : shape.duplicate
        ? `duplicate member "${shape.duplicate.key}" in ${shape.duplicate.at} (parsers disagree on which one counts)`
        : problemOf(value);
  if (problem) {
    // Only something that looks like a request is answered; a broken notification or response is just dropped.
    const answerable = 'method' in value && 'id' in value;
    const usableId = typeof id === 'string' && id.length > MAX_ID_LENGTH ? undefined : rawId;
    return invalid(ERROR_CODES.invalid_request, problem, answerable, usableId, usableId && value.id);
  }
  if (!('method' in value)) return { kind: 'response', id: id ?? null, value };
  const method = value.method as string;
  if (!('id' in value)) return { kind: 'notification', method, value };
  return {
    kind: 'request',
    id: id!,
    rawId: rawId!,
    method,
    params: value.params as Record<string, unknown> | undefined,
    value,
    text,
    shape,
  };
}

/** What is wrong with a parsed JSON-RPC object, if anything. */
function problemOf(value: Record<string, unknown>): string | undefined {
  if (value.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('method' in value) {
    const method = value.method;
    if (typeof method !== 'string' || method === '' || method.length > MAX_METHOD_LENGTH)
      return `method must be a string of 1-${MAX_METHOD_LENGTH} characters`;
    if ('result' in value || 'error' in value) return 'a request cannot carry result or error';
    if ('params' in value && !isObject(value.params)) return 'params must be an object';
    if (!('id' in value)) return undefined;
    if (!isRpcId(value.id)) return 'id must be a string or a number';
    if (typeof value.id === 'string' && value.id.length > MAX_ID_LENGTH)
      return `id is longer than ${MAX_ID_LENGTH} characters`;
    return undefined;
  }
  if ('result' in value === 'error' in value) return 'neither a request, a notification nor a response';
  if (isRpcId(value.id) || (value.id === null && 'error' in value)) return undefined;
  return 'a response needs an id';
}

function invalid(
  code: number,
  problem: string,
  answerable: boolean,
  rawId?: string,
  id?: unknown,
): ClientMessage {
  return {
    kind: 'invalid',
    code,
    problem,
    answerable,
    ...(rawId !== undefined ? { rawId } : {}),
    ...(isRpcId(id) ? { id } : {}),
  };
}

/** Only spaces, tabs, carriage returns and newlines: nothing to relay. */
export function isBlank(bytes: Uint8Array | string): boolean {
  if (typeof bytes === 'string') return bytes.trim() === '';
  for (const byte of bytes)
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  return true;
}

/** The id of a message that failed strict decoding, if the lenient decoding still shows a request. */
function requestIdOf(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value) && typeof value.method === 'string' && isRpcId(value.id)) {
      const span = scanShape(text).root.get('id');
      return span ? text.slice(span.start, span.end) : JSON.stringify(value.id);
    }
  } catch {
    // not JSON either
  }
  return undefined;
}

/** Strict UTF-8 decoding and JSON parsing of one message from a server (no classification). */
export type Parsed =
  | { readonly kind: 'json'; readonly text: string; readonly value: unknown }
  | { readonly kind: 'not-utf8'; readonly text: string }
  | { readonly kind: 'not-json'; readonly text: string };

export function parseMessage(bytes: Uint8Array): Parsed {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { kind: 'not-utf8', text: Buffer.from(bytes).toString('utf8') };
  }
  try {
    return { kind: 'json', text, value: JSON.parse(text) };
  } catch {
    return { kind: 'not-json', text };
  }
}

/** A JSON-RPC error response object. */
export function errorResponse(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/**
 * A JSON-RPC error response as one line of text. `rawId` is the id exactly as the client wrote it (so a big
 * integer id round-trips) or `null` when there is none.
 */
export function errorLine(rawId: string | null, code: number, message: string, data?: unknown): Buffer {
  const error = data === undefined ? { code, message } : { code, message, data };
  return Buffer.from(`{"jsonrpc":"2.0","id":${rawId ?? 'null'},"error":${JSON.stringify(error)}}\n`);
}

/** The tool a `tools/call` names, if it names one. */
export function toolOf(message: { method: string; params?: Record<string, unknown> }): string | undefined {
  const name = message.params?.name;
  return message.method === 'tools/call' && typeof name === 'string' ? name : undefined;
}

/** The client's name, from `initialize` params or a 2026-07-28 `_meta` envelope. */
export function clientNameOf(message: {
  method: string;
  params?: Record<string, unknown>;
}): string | undefined {
  const params = message.params;
  const info =
    (message.method === 'initialize' ? params?.clientInfo : undefined) ??
    (params?._meta as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/clientInfo'];
  const name = (info as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.length <= 200 ? name : undefined;
}
