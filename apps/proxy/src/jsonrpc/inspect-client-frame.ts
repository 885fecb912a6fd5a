import {
  errorLine,
  ERROR_CODES,
  isObject,
  isRpcId,
  readClientMessage,
  type ClientMessage,
} from '../../../../libs/runtime/src/index.js';

/** What the stdio relay does with one client frame, decided by the shared reader (libs/runtime). */
export type ClientFrame =
  | { readonly kind: 'blank' }
  /** Refused: send `answer` (if any) and log `problem`; nothing reaches the server. */
  | { readonly kind: 'refused'; readonly problem: string; readonly answer?: Buffer }
  /** A batch: one error per request in it (or none); `count` messages for the log. */
  | { readonly kind: 'batch'; readonly count: number; readonly answer?: Buffer }
  | Extract<ClientMessage, { kind: 'response' | 'notification' | 'request' }>;

/** The shared reading of a frame, with the stdio answers: error lines that echo the id exactly as written. */
export function inspectClientFrame(frame: Buffer): ClientFrame {
  const message = readClientMessage(frame);
  if (message.kind === 'invalid') {
    const prefix = message.code === ERROR_CODES.parse_error ? 'Parse error' : 'Invalid Request';
    return {
      kind: 'refused',
      problem: `${message.problem} (${frame.length} bytes)`,
      answer: message.answerable
        ? errorLine(message.rawId ?? null, message.code, `${prefix}: ${message.problem}`)
        : undefined,
    };
  }
  if (message.kind === 'batch') return batch(message.items);
  return message;
}

function batch(items: readonly unknown[]): ClientFrame {
  if (items.length === 0) {
    return {
      kind: 'batch',
      count: 0,
      answer: errorLine(null, ERROR_CODES.invalid_request, 'Invalid Request: empty batch'),
    };
  }
  const answers = items
    .filter((item): item is Record<string, unknown> => isObject(item) && 'method' in item && isRpcId(item.id))
    .map((item) => ({
      jsonrpc: '2.0',
      id: item.id,
      error: { code: ERROR_CODES.invalid_request, message: 'Invalid Request: batches are not supported' },
    }));
  return {
    kind: 'batch',
    count: items.length,
    answer: answers.length > 0 ? Buffer.from(`${JSON.stringify(answers)}\n`) : undefined,
  };
}
