import {
  ERROR_CODES,
  readClientMessage,
  type FrameShape,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../../../../libs/runtime/src/index.js';

/** A client message the gateway relays; a request keeps its text to be forwarded without re-serialising it. */
export type ClientMessage =
  | { kind: 'request'; message: JsonRpcRequest; text: string; shape: FrameShape }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse };

export type ParseOutcome =
  ClientMessage | { kind: 'invalid'; code: number; reason: string; id: JsonRpcId | null };

/**
 * One HTTP body read by the shared reader (libs/runtime, the proxy's too). Batches are refused with one error:
 * 2025-06-18 removed them and each call must be checked alone.
 */
export function parseClientMessage(body: Buffer | string): ParseOutcome {
  const read = readClientMessage(body);
  switch (read.kind) {
    case 'blank':
      return { kind: 'invalid', code: ERROR_CODES.parse_error, reason: 'the body is empty', id: null };
    case 'invalid':
      return {
        kind: 'invalid',
        code: read.code,
        reason: read.problem,
        id: read.rawId === undefined ? null : (read.id ?? null),
      };
    case 'batch':
      return {
        kind: 'invalid',
        code: ERROR_CODES.invalid_request,
        reason: 'JSON-RPC batches are not supported by the gateway',
        id: null,
      };
    case 'response':
      return { kind: 'response', message: read.value as unknown as JsonRpcResponse };
    case 'notification':
      return { kind: 'notification', message: read.value as unknown as JsonRpcNotification };
    case 'request':
      return {
        kind: 'request',
        message: read.value as unknown as JsonRpcRequest,
        text: read.text,
        shape: read.shape,
      };
  }
}
