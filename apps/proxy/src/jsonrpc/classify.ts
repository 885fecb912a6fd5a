import { isRpcId, type RpcId } from './ids.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type Parsed =
  | { readonly kind: 'json'; readonly text: string; readonly value: unknown }
  | { readonly kind: 'not-utf8'; readonly text: string }
  | { readonly kind: 'not-json'; readonly text: string };

/** Decodes a frame strictly (invalid UTF-8 is refused: a lax decoder downstream could read it differently). */
export function parseFrame(frame: Buffer): Parsed {
  let text: string;
  try {
    text = UTF8.decode(frame);
  } catch {
    return { kind: 'not-utf8', text: frame.toString('utf8') };
  }
  try {
    return { kind: 'json', text, value: JSON.parse(text) };
  } catch {
    return { kind: 'not-json', text };
  }
}

export type ClientFrameKind =
  | { readonly kind: 'request'; readonly id: RpcId; readonly method: string }
  | { readonly kind: 'notification'; readonly method: string }
  | { readonly kind: 'response'; readonly id: RpcId }
  | { readonly kind: 'invalid'; readonly reason: string; readonly id?: RpcId };

/** What a parsed JSON-RPC 2.0 object is. */
export function classify(value: Record<string, unknown>): ClientFrameKind {
  const hasId = 'id' in value;
  const id = value.id;
  if (value.jsonrpc !== '2.0')
    return { kind: 'invalid', reason: 'jsonrpc must be "2.0"', id: isRpcId(id) ? id : undefined };
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '')
      return {
        kind: 'invalid',
        reason: 'method must be a non-empty string',
        id: isRpcId(id) ? id : undefined,
      };
    if ('result' in value || 'error' in value)
      return {
        kind: 'invalid',
        reason: 'a request cannot carry result or error',
        id: isRpcId(id) ? id : undefined,
      };
    if (!hasId) return { kind: 'notification', method: value.method };
    if (!isRpcId(id)) return { kind: 'invalid', reason: 'id must be a string or a number' };
    if ('params' in value && (typeof value.params !== 'object' || value.params === null)) {
      return { kind: 'invalid', reason: 'params must be an object or an array', id };
    }
    return { kind: 'request', id, method: value.method };
  }
  if ('result' in value !== 'error' in value && isRpcId(id)) return { kind: 'response', id };
  return {
    kind: 'invalid',
    reason: 'neither a request, a notification nor a response',
    id: isRpcId(id) ? id : undefined,
  };
}
