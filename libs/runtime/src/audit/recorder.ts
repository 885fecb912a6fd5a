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
 * Calls let through and not answered yet: each is recorded once, when its answer (or the lack of one) is known.
 * Bounded: past `max` held calls the oldest is recorded as `no_answer` (O(1), insertion order).
 */
export class PendingCalls {
  private readonly held = new Map<string, AuditFields>();

  constructor(
    private readonly record: (fields: AuditFields) => void,
    private readonly max = 10_000,
  ) {}

  get size(): number {
    return this.held.size;
  }

  hold(key: string, fields: AuditFields): void {
    // The same id again before an answer: the first one will never be told apart, so it is settled now.
    if (this.held.has(key)) this.settle(key, { outcome: 'no_answer', error_class: 'id_reused' });
    this.held.set(key, fields);
    if (this.held.size > this.max) {
      const oldest = this.held.keys().next().value as string;
      this.settle(oldest, { outcome: 'no_answer', error_class: 'evicted' });
    }
  }

  /** Records the held call with its outcome (and any fields the answer changed, e.g. a redaction). */
  settle(key: string, changes: Partial<AuditFields> & { outcome: CallOutcome }): boolean {
    const fields = this.held.get(key);
    if (!fields) return false;
    this.held.delete(key);
    this.record({ ...fields, ...changes });
    return true;
  }

  /** Whether a call is waiting under this key (a redaction or block of its answer is then part of its record). */
  has(key: string): boolean {
    return this.held.has(key);
  }

  get(key: string): AuditFields | undefined {
    return this.held.get(key);
  }

  /** Every held call, e.g. at shutdown or when the server exits. */
  settleAll(changes: Partial<AuditFields> & { outcome: CallOutcome }): void {
    for (const key of [...this.held.keys()]) this.settle(key, changes);
  }
}
