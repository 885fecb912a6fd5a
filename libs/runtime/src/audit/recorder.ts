import type { CallOutcome, RuntimeAuditEvent } from '../../../contracts/src/index.js';
import type { AuditFile } from './audit-file.js';
import { buildEvent, type AuditFields } from './events.js';
import type { AuditPusher } from './pusher.js';

/**
 * Records an event everywhere it goes, once: built and cleaned ({@link buildEvent}), written to the local audit
 * file when there is one, shown to the app's log hook, and handed to the pusher for the control plane.
 */
export class AuditRecorder {
  constructor(
    private readonly parts: {
      file?: AuditFile;
      /** Value-free fields every line of the audit file carries (the gateway's tenant). */
      scope?: Record<string, string>;
      pusher?: AuditPusher;
      /** The app's own log of the event (already cleaned: never the raw fields). */
      log?: (event: RuntimeAuditEvent) => void;
    },
  ) {}

  record(fields: AuditFields): RuntimeAuditEvent {
    const event = buildEvent(fields);
    this.write(event);
    return event;
  }

  /** An event already built with {@link buildEvent}. */
  write(event: RuntimeAuditEvent): void {
    this.parts.file?.write(event, this.parts.scope);
    this.parts.log?.(event);
    this.parts.pusher?.record(event);
  }
}

/**
 * The outcome fields of a JSON-RPC answer: a result is `answered`; an error is `error` with its code as the class
 * (`jsonrpc_-32602`); a tool result with `isError: true` is `error` with class `tool_error`.
 */
export function outcomeOfAnswer(answer: unknown): Pick<AuditFields, 'outcome' | 'error_class'> {
  const message = answer && typeof answer === 'object' ? (answer as Record<string, unknown>) : {};
  if ('error' in message) {
    const error = message.error;
    const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
    return {
      outcome: 'error',
      error_class:
        typeof code === 'number' && Number.isSafeInteger(code) ? `jsonrpc_${code}` : 'jsonrpc_error',
    };
  }
  const result = message.result;
  if (result && typeof result === 'object' && (result as { isError?: unknown }).isError === true)
    return { outcome: 'error', error_class: 'tool_error' };
  return { outcome: 'answered' };
}

/**
 * One call let through, not answered yet: recorded exactly once, when its outcome is known. `settle` merges what
 * the answer added (the outcome, a redaction or block with its detectors) over the call's own fields; fields
 * given as undefined keep the call's value. A second `settle` is a no-op.
 */
export class CallRecord {
  private done = false;

  constructor(
    private readonly record: (fields: AuditFields) => void,
    readonly fields: AuditFields,
  ) {}

  get settled(): boolean {
    return this.done;
  }

  settle(changes: Partial<AuditFields>): boolean {
    if (this.done) return false;
    this.done = true;
    const merged = { ...this.fields } as unknown as Record<string, unknown>;
    for (const key in changes) {
      const value = (changes as Record<string, unknown>)[key];
      if (value !== undefined) merged[key] = value;
    }
    this.record(merged as unknown as AuditFields);
    return true;
  }
}

/**
 * Calls in flight on one session whose answers arrive elsewhere (a legacy SSE stream), by request id. Bounded:
 * past `max` the oldest is recorded as `no_answer` (O(1), insertion order).
 */
export class PendingCalls {
  private readonly held = new Map<string, CallRecord>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.held.size;
  }

  hold(key: string, call: CallRecord): void {
    // The same id again before an answer: the first can no longer be told apart, so it is settled now.
    this.held.get(key)?.settle({ outcome: 'no_answer', error_class: 'id_reused' });
    this.held.set(key, call);
    if (this.held.size > this.max) {
      const oldest = this.held.keys().next().value as string;
      this.take(oldest)?.settle({ outcome: 'no_answer', error_class: 'evicted' });
    }
  }

  /** The call answered by this id, removed (its caller settles it). */
  take(key: string): CallRecord | undefined {
    const call = this.held.get(key);
    if (call) this.held.delete(key);
    return call;
  }

  /** Every held call, e.g. when the session or its upstream ends. */
  settleAll(changes: Partial<AuditFields> & { outcome: CallOutcome }): void {
    for (const call of this.held.values()) call.settle(changes);
    this.held.clear();
  }
}
