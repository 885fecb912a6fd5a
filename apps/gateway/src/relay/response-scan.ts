import type { Transform } from 'node:stream';
import {
  errorResponse,
  ERROR_CODES,
  outcomeOfAnswer,
  scanResponse,
  withheldReason,
  type CallRecord,
  type TraceContext,
} from '../../../../libs/runtime/src/index.js';
import type { GatewayAuditEvent } from '../audit/audit-sink.js';
import type { RelayDeps } from './relay-context.js';
import { sseRewriter } from './sse.js';

/** Who an upstream message is on its way to (audit and log fields). */
export interface ScanPlace {
  tenant: string;
  upstream: string;
  agent?: string;
  client?: string;
  trace?: TraceContext;
  /** The call this stream or body answers: a redaction or block of its answer is that call's one record. */
  call?: CallRecord;
}

/** Whether the gateway scans upstream messages (`--detect-credentials`). */
export function scanning(deps: RelayDeps): boolean {
  return deps.config.detectCredentials;
}

/**
 * Response scanning with redaction (`libs/runtime`'s step, the same as the proxy's `--detect-credentials`) for
 * one JSON-RPC message from an upstream, as text. Returns the text to send: untouched when nothing matched,
 * redacted in place, or — under `--credential-action block` — an error answer for a response, and undefined
 * (drop it) for a notification. A server-to-client request is redacted, never withheld.
 */
export function scanMessageText(
  deps: RelayDeps,
  place: ScanPlace,
  text: string,
  parsed?: unknown,
): string | undefined {
  if (!scanning(deps)) return text;
  const found = scanResponse(text);
  if (!found) return text;
  const message = objectOf(parsed ?? text);
  const id = message?.id as string | number | undefined;
  const isResponse = message !== undefined && !('method' in message) && id !== undefined;
  const method = typeof message?.method === 'string' ? message.method : undefined;
  const base = {
    server: place.upstream,
    agent: place.agent,
    client: place.client,
    trace_id: place.trace?.traceId,
    span_id: place.trace?.spanId,
    method,
    request_id: id === undefined ? undefined : String(id),
    detectors: found.detectors,
    count: found.count,
  };
  const fields = { tenant: place.tenant, upstream: place.upstream, detectors: found.detectors };
  // The answer to the held call: its record (tool, fingerprint, rule) gains the redaction and the outcome.
  const answers =
    isResponse && place.call && !place.call.settled && String(id) === place.call.fields.request_id;
  const record = (event: GatewayAuditEvent) =>
    answers ? place.call!.settle({ ...event, ...outcomeOfAnswer(message) }) : deps.audit(place.tenant, event);
  if (deps.config.credentialAction === 'block' && (isResponse || id === undefined)) {
    const reason = isResponse
      ? withheldReason(found)
      : `notification withheld: it contained ${found.summary}`;
    record({ ...base, type: 'response.blocked', reason });
    deps.metrics.relays.inc({ upstream: place.upstream, outcome: 'response_blocked' });
    deps.logger.warn(fields, isResponse ? 'blocked an upstream answer' : 'dropped an upstream notification');
    if (!isResponse) return undefined;
    return JSON.stringify(
      errorResponse(id!, ERROR_CODES.response_blocked, reason, {
        reason_code: 'response_blocked',
        detectors: found.detectors,
      }),
    );
  }
  const warning =
    answers && place.call!.fields.type === 'tool_call.warned' ? `${place.call!.fields.reason}; ` : '';
  record({
    ...base,
    type: 'response.redacted',
    reason: `${warning}redacted ${found.count} value(s): ${found.summary}`,
  });
  deps.metrics.relays.inc({ upstream: place.upstream, outcome: 'response_redacted' });
  deps.logger.warn({ ...fields, count: found.count }, 'redacted values in an upstream message');
  return found.text;
}

/**
 * The same on a message object (legacy SSE sessions and bridges hold parsed messages): serialised once, and that
 * text is both what is scanned and what is sent. Returns the text to send, or undefined to drop the message.
 */
export function scanMessageToText(deps: RelayDeps, place: ScanPlace, message: unknown): string | undefined {
  return scanMessageText(deps, place, JSON.stringify(message), message);
}

/** The message as an object (to name its id and method), parsing it only when given as text. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined; // not JSON: only redaction applies (redactJson left non-JSON text as it was)
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The same on an SSE stream, event by event as they arrive (each `message` event's data is one JSON-RPC
 * message); other events, comments and ids pass through. An event is scanned whole, so a secret split across
 * two chunks of one event is still found; a secret split across two events is not (no JSON-RPC message is).
 */
export function scanningSseStream(deps: RelayDeps, place: ScanPlace): Transform {
  return sseRewriter((event) => {
    if ((event.event ?? 'message') !== 'message' || event.data === '') return event;
    const data = scanMessageText(deps, place, event.data);
    return data === undefined ? undefined : { ...event, data };
  });
}
