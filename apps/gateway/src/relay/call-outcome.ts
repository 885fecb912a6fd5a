import type { Transform } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { outcomeOfAnswer, type CallRecord } from '../../../../libs/runtime/src/index.js';
import { sseRewriter } from './sse.js';

/**
 * Where an allowed call's one audit record is written: when its answer has passed (with the outcome the answer
 * carries), or when it is clear none will come. Redactions and blocks of the answer settle it earlier
 * (`response-scan.ts`); whatever settles first wins and the rest are no-ops.
 */

/** Settles the call from a whole JSON answer (a body the relay read anyway). */
export function settleFromJson(call: CallRecord | undefined, text: string | Buffer): void {
  if (!call || call.settled) return;
  let answer: unknown;
  try {
    answer = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    call.settle({ outcome: 'upstream_failed', error_class: 'invalid_json' });
    return;
  }
  // A batch answer (legacy): the element with our id.
  if (Array.isArray(answer))
    answer = answer.find((m) => String((m as { id?: unknown })?.id) === call.fields.request_id);
  call.settle(outcomeOfAnswer(answer));
}

/** A pass-through for an SSE answer stream that settles the call when the event answering it goes by. */
export function answerTap(call: CallRecord): Transform {
  return sseRewriter((event) => {
    if (call.settled || (event.event ?? 'message') !== 'message' || !event.data.includes('"id"'))
      return event;
    try {
      const message = JSON.parse(event.data) as Record<string, unknown>;
      if (!('method' in message) && String(message.id) === call.fields.request_id)
        call.settle(outcomeOfAnswer(message));
    } catch {
      // not JSON: not the answer
    }
    return event;
  });
}

/** When the exchange is over: a call still unsettled got no answer (the client left, or the upstream never said). */
export function settleOnClose(call: CallRecord | undefined, reply: FastifyReply): void {
  if (!call) return;
  // `on`, not `once`: a response closes once, and `once` wraps the listener and removes it per request.
  reply.raw.on('close', () => {
    if (call.settled) return;
    if (reply.raw.writableFinished)
      call.settle({ outcome: 'upstream_failed', error_class: 'no_answer_in_stream' });
    else call.settle({ outcome: 'no_answer', error_class: 'client_gone' });
  });
}
