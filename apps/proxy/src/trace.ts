import { randomBytes } from 'node:crypto';

/** W3C trace context of one request as the proxy saw it. */
export interface TraceContext {
  readonly traceId: string;
  /** The parent span (the client's), or the proxy's own span when it started the trace. */
  readonly spanId: string;
  readonly traceparent: string;
  /** True when the proxy created it (the request had no valid `traceparent`). */
  readonly generated: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Reads a `traceparent` (W3C Trace Context level 1): version `00` exactly 55 characters; a later version may
 * carry more fields; `ff`, all-zero trace ids and all-zero parent ids are invalid.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, version, traceId, spanId, , extra] = match;
  if (version === 'ff' || (version === '00' && extra !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceparent: value, generated: false };
}

/** A new sampled trace with the proxy's span as the parent of what the server does. */
export function newTrace(): TraceContext {
  const bytes = randomBytes(24);
  const traceId = bytes.subarray(0, 16).toString('hex');
  const spanId = bytes.subarray(16).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01`, generated: true };
}
