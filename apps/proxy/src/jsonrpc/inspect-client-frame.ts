import { errorLine, PROXY_ERROR_CODES } from '../errors.js';
import { classify, parseFrame } from './classify.js';
import { isRpcId, type RpcId } from './ids.js';
import { scanShape, type FrameShape } from './shape.js';

/** Deepest nesting accepted in a client frame (JSON.stringify and most parsers recurse). */
export const MAX_CLIENT_DEPTH = 128;

/** What to do with one frame from the client, decided before any policy check. */
export type ClientFrame =
  | { readonly kind: 'blank' }
  /** Refused: send `answer` (if any) and log `problem`; nothing reaches the server. */
  | { readonly kind: 'refused'; readonly problem: string; readonly answer?: Buffer }
  /** A batch: one error per request in it (or none); `count` messages for the log. */
  | { readonly kind: 'batch'; readonly count: number; readonly answer?: Buffer }
  /** The client answering a server request (sampling, elicitation, roots): forwarded as is. */
  | { readonly kind: 'response' }
  | { readonly kind: 'notification'; readonly method: string; readonly value: Record<string, unknown> }
  | {
      readonly kind: 'request';
      readonly id: RpcId;
      /** The id exactly as written, for answers the proxy makes. */
      readonly rawId: string;
      readonly method: string;
      readonly params: unknown;
      readonly text: string;
      readonly shape: FrameShape;
    };

/**
 * Reads one client frame strictly: valid UTF-8, valid JSON, a single JSON-RPC 2.0 object (no batch), ids that are
 * strings or numbers, no member name twice in one object (parsers disagree on which one wins, so the proxy could
 * check one value while the server uses the other), nesting within `MAX_CLIENT_DEPTH`. Whatever fails gets the
 * JSON-RPC error the spec prescribes, for its id when it has a usable one.
 */
export function inspectClientFrame(frame: Buffer): ClientFrame {
  if (isBlank(frame)) return { kind: 'blank' };
  const parsed = parseFrame(frame);
  if (parsed.kind === 'not-utf8') {
    const rawId = requestIdOf(parsed.text);
    return {
      kind: 'refused',
      problem: `a frame that is not valid UTF-8 (${frame.length} bytes)`,
      answer: rawId
        ? errorLine(rawId, PROXY_ERROR_CODES.invalid_request, 'Invalid Request: the frame is not valid UTF-8')
        : errorLine(null, PROXY_ERROR_CODES.parse_error, 'Parse error: the frame is not JSON'),
    };
  }
  if (parsed.kind === 'not-json') {
    return {
      kind: 'refused',
      problem: `a frame that is not JSON (${frame.length} bytes)`,
      answer: errorLine(null, PROXY_ERROR_CODES.parse_error, 'Parse error: the frame is not JSON'),
    };
  }
  const value = parsed.value;
  if (Array.isArray(value)) return batch(value);
  if (!isObject(value)) {
    return {
      kind: 'refused',
      problem: 'a JSON value that is not a JSON-RPC object',
      answer: errorLine(null, PROXY_ERROR_CODES.invalid_request, 'Invalid Request: not a JSON-RPC object'),
    };
  }
  const shape = scanShape(parsed.text);
  const idSpan = shape.root.get('id');
  const rawId = idSpan && isRpcId(value.id) ? parsed.text.slice(idSpan.start, idSpan.end) : undefined;
  const kind = classify(value);
  const problem =
    shape.depth > MAX_CLIENT_DEPTH
      ? `nesting deeper than ${MAX_CLIENT_DEPTH} levels`
      : shape.duplicate
        ? `duplicate member "${shape.duplicate.key}" in ${shape.duplicate.at} (parsers disagree on which one counts)`
        : kind.kind === 'invalid'
          ? kind.reason
          : undefined;
  if (problem) {
    // Only something that looks like a request is answered; a broken notification or response is just dropped.
    const answerable =
      ('method' in value || kind.kind === 'request') && (rawId !== undefined || 'id' in value);
    return {
      kind: 'refused',
      problem,
      answer: answerable
        ? errorLine(rawId ?? null, PROXY_ERROR_CODES.invalid_request, `Invalid Request: ${problem}`)
        : undefined,
    };
  }
  if (kind.kind === 'response') return { kind: 'response' };
  if (kind.kind === 'notification') return { kind: 'notification', method: kind.method, value };
  if (kind.kind !== 'request') return { kind: 'refused', problem: 'not a JSON-RPC message' };
  return {
    kind: 'request',
    id: kind.id,
    rawId: rawId!,
    method: kind.method,
    params: value.params,
    text: parsed.text,
    shape,
  };
}

function batch(items: unknown[]): ClientFrame {
  if (items.length === 0) {
    return {
      kind: 'batch',
      count: 0,
      answer: errorLine(null, PROXY_ERROR_CODES.invalid_request, 'Invalid Request: empty batch'),
    };
  }
  const answers = items
    .filter((item): item is Record<string, unknown> => isObject(item) && 'method' in item && isRpcId(item.id))
    .map((item) => ({
      jsonrpc: '2.0',
      id: item.id,
      error: {
        code: PROXY_ERROR_CODES.invalid_request,
        message: 'Invalid Request: batches are not supported',
      },
    }));
  return {
    kind: 'batch',
    count: items.length,
    answer: answers.length > 0 ? Buffer.from(`${JSON.stringify(answers)}\n`) : undefined,
  };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only spaces, tabs and carriage returns: nothing to relay. */
export function isBlank(frame: Buffer): boolean {
  for (const byte of frame) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

/** The id of a frame that failed strict decoding, if the lenient decoding still shows a request. */
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
