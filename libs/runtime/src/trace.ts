import { RANDOM_POOL, takeRandom } from './random-pool.js';

/**
 * W3C Trace Context (level 1) for one message through the proxy or the gateway: one parser, one generator, one
 * formatter for both. The proxy is transparent on the wire: it keeps the client's `traceparent` (its span is the
 * parent of what the server does) and adds one only when the client sent none. The gateway is an HTTP hop: it
 * continues the caller's trace with a span of its own.
 */
export interface TraceContext {
  readonly traceId: string;
  /** The span that is the parent of what the server does: the caller's (kept) or one this hop created. */
  readonly spanId: string;
  readonly flags: string;
  /** The `traceparent` to send on: the caller's exactly as written when kept, else one built from the fields. */
  readonly traceparent: string;
  /** The caller's `tracestate`, passed on when it is a sane size. */
  readonly tracestate?: string;
  /** True when this hop started the trace (the message had no valid `traceparent`). */
  readonly generated: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_HEADER = 512;

/**
 * Reads a `traceparent`: version `00` is exactly 55 characters; a later version may carry more fields (read for
 * its first four, as W3C requires of a reader); version `ff`, all-zero trace ids and all-zero parent ids are
 * invalid. Surrounding whitespace (a header's) is ignored.
 */
export function parseTraceparent(value: unknown, tracestate?: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_HEADER) return undefined;
  const text = value.trim();
  const match = TRACEPARENT.exec(text);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, extra] = match;
  if (version === 'ff' || (version === '00' && extra !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return {
    traceId: traceId!,
    spanId: spanId!,
    flags: flags!,
    traceparent: text,
    tracestate: stateOf(tracestate),
    generated: false,
  };
}

/** A new sampled trace whose first span is this hop's. */
export function newTrace(): TraceContext {
  const hex = randomHex(24);
  const traceId = hex.slice(0, 32);
  const spanId = hex.slice(32);
  return { traceId, spanId, flags: '01', traceparent: `00-${traceId}-${spanId}-01`, generated: true };
}

/**
 * The first valid `traceparent` among `candidates` (a header, then `params._meta.traceparent`, say) continued
 * with a new span for this hop; a new trace when there is none. An all-zero or malformed parent is ignored.
 */
export function continueTrace(candidates: readonly unknown[], tracestate?: unknown): TraceContext {
  for (const candidate of candidates) {
    const parent = parseTraceparent(candidate, tracestate);
    if (!parent) continue;
    const spanId = randomHex(8);
    return {
      ...parent,
      spanId,
      traceparent: `00-${parent.traceId}-${spanId}-${parent.flags}`,
      generated: false,
    };
  }
  return newTrace();
}

/** The `traceparent` a hop sends on. */
export function traceparentOf(trace: TraceContext): string {
  return trace.traceparent;
}

/** `tracestate` passes through verbatim when it is a string of a sane size (W3C caps it at 512 characters). */
function stateOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_HEADER ? value : undefined;
}

/** Random hex from the shared pool of CSPRNG bytes. */
function randomHex(bytes: number): string {
  const at = takeRandom(bytes);
  return RANDOM_POOL.toString('hex', at, at + bytes);
}
