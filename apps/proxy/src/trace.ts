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

/** Random bytes drawn 24 at a time from a pool refilled 4 KiB at once (one syscall per 170 traces, not one each). */
let pool = Buffer.alloc(0);
let poolOffset = 0;
function random24(): Buffer {
  if (poolOffset + 24 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  poolOffset += 24;
  return pool.subarray(poolOffset - 24, poolOffset);
}

/** A new sampled trace with the proxy's span as the parent of what the server does. */
export function newTrace(): TraceContext {
  const bytes = random24();
  const traceId = bytes.subarray(0, 16).toString('hex');
  const spanId = bytes.subarray(16).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01`, generated: true };
}
