import {
  compareTools,
  driftLine,
  idKey,
  isObject,
  isRpcId,
  outcomeOfAnswer,
  scanResponse,
  scanShape,
  type JsonRpcId as RpcId,
  type ToolBaselineStore,
  type ToolRegistry,
  withheldReason,
  withoutDriftedTools,
} from '../../../../libs/runtime/src/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { EventFacts } from '../audit/events.js';
import type { ProxyConfig } from '../config.js';
import { refusal, refusalLine } from '../errors.js';
import type { ProxyLogger } from '../logger.js';
import type { PendingCall, Session } from './session.js';

/** A frame from the server, parsed. */
export interface ServerMessage {
  readonly message: Record<string, unknown>;
  readonly text: string;
  readonly raw: Buffer;
}

/**
 * The server → client checks. Responses are matched to the request they answer (unknown ids are dropped: the
 * client never asked, or the proxy already answered). `tools/list` results feed the declared-tool registry and
 * drift detection (drifted tools are withheld from the list with `--block-drift`). With `--detect-credentials`,
 * every frame's string values are scanned; matches are redacted in place (only the string literals that held
 * them are rewritten, so the response stays valid and every other byte is the server's) or, with
 * `--credential-action block`, the response is replaced by an error. Returns the bytes to send, or undefined.
 */
export class ResponsePipeline {
  /** Calls answered by frames on their way to the client, and their outcomes (see `recordAnswered`). */
  private readonly answeredCalls: PendingCall[] = [];
  private readonly answeredOutcomes: Outcome[] = [];

  constructor(
    private readonly config: ProxyConfig,
    private readonly logger: ProxyLogger,
    private readonly audit: AuditSink,
    private readonly tools: ToolRegistry,
    private readonly session: Session,
    /** The previous session's tools and where to keep this session's (cross-session drift, flagged only). */
    private readonly previousTools?: {
      store: ToolBaselineStore;
      tools: ReadonlyMap<string, string> | undefined;
    },
    /**
     * Whether a `secret_paths` rule is in force. An argument check sees only the path a client sent, not a
     * symlink the server follows, so responses are then scanned and redacted even without --detect-credentials.
     */
    private readonly secretPathsInForce: () => boolean = () => false,
  ) {}

  handle(frame: ServerMessage): Buffer | undefined {
    const { message } = frame;
    const isResponse = !('method' in message) && ('result' in message || 'error' in message);
    if (!isResponse) return this.scan(frame, undefined);
    if (!isRpcId(message.id)) {
      this.logger.warn('dropped a response from the server without a usable id');
      return undefined;
    }
    const key = idKey(message.id);
    const call = this.session.take(key);
    if (!call) {
      if (!this.session.wasCancelled(key))
        this.logger.warn(`dropped a response to an id nobody asked (${String(message.id).slice(0, 32)})`);
      return undefined;
    }
    let current = frame;
    if (call.method === 'tools/list' && isObject(message.result) && Array.isArray(message.result.tools)) {
      current = this.observeTools(call, current, message.result);
    }
    if (call.internal) {
      if (isObject(message.result)) call.internal.resolve(message.result);
      else call.internal.reject(new Error(`the server answered ${call.method} with an error`));
      return undefined;
    }
    if (this.logger.enabled('debug')) {
      this.logger.debug(
        `${call.method}${call.tool ? ` ${call.tool}` : ''} answered in ${Date.now() - call.started} ms`,
      );
    }
    return this.scan(current, call, outcomeOf(message));
  }

  /** A call the server answered with something the proxy could not pass on (e.g. too large). */
  failed(call: PendingCall, errorClass: string): void {
    this.settle(call, { outcome: 'upstream_failed', errorClass });
  }

  /** A request the client cancelled: recorded once, as never answered. */
  cancelled(id: RpcId): void {
    const call = this.session.cancel(id);
    if (call) this.settle(call, { outcome: 'no_answer', errorClass: 'cancelled' });
  }

  /** Answers for every request still in flight when the server is gone. */
  orphaned(reason: string): Buffer[] {
    const lines: Buffer[] = [];
    for (const [key, call] of this.session.pending) {
      this.session.pending.delete(key);
      if (call.internal) {
        call.internal.reject(new Error(reason));
        continue;
      }
      this.settle(call, { outcome: 'upstream_failed', errorClass: 'server_exited' });
      lines.push(
        refusalLine(call.rawId, refusal('server_unavailable', reason, { trace_id: call.trace.traceId })),
      );
    }
    return lines;
  }

  private observeTools(
    call: PendingCall,
    frame: ServerMessage,
    result: Record<string, unknown>,
  ): ServerMessage {
    const tools = result.tools as unknown[];
    const wasListed = this.tools.listed;
    const changes = this.tools.observe(tools, !call.cursor, typeof result.nextCursor !== 'string');
    if (!wasListed && this.tools.listed) this.compareWithPreviousSession(call);
    for (const change of changes) {
      this.logger.warn(driftLine(change, this.config.blockDrift));
      this.emit({
        type: 'tool.drift',
        tool: change.tool,
        method: 'tools/list',
        trace: call.trace,
        requestId: call.internal ? undefined : call.id,
        reason: `tool ${change.kind} after the first tools/list`,
        previousToolFingerprint: change.previous,
        toolFingerprint: change.current,
        decision: this.config.blockDrift && change.kind !== 'removed' ? 'block' : undefined,
      });
    }
    if (!this.config.blockDrift || call.internal) return frame;
    const kept = withoutDriftedTools(tools, this.tools);
    if (!kept) return frame;
    // Rebuild the response around the server's own id text (never re-serialise the id: big integers).
    const shape = scanShape(frame.text);
    const idSpan = shape.root.get('id');
    const rawId = idSpan ? frame.text.slice(idSpan.start, idSpan.end) : JSON.stringify(frame.message.id);
    const text = `{"jsonrpc":"2.0","id":${rawId},"result":${JSON.stringify({ ...result, tools: kept })}}`;
    return {
      message: { ...frame.message, result: { ...result, tools: kept } },
      text,
      raw: Buffer.from(`${text}\n`),
    };
  }

  /**
   * A server that changed its tools between sessions (a package update, or a rug pull) is flagged, never blocked:
   * a legitimate upgrade must not lock the tool out. Then this session's listing becomes the next baseline.
   */
  private compareWithPreviousSession(call: PendingCall): void {
    if (!this.previousTools) return;
    const current = this.tools.snapshot();
    const { store, tools: previous } = this.previousTools;
    if (previous) {
      for (const change of compareTools(previous, current)) {
        this.logger.warn(
          `tool drift: "${change.tool}" was ${change.kind} since the previous session with this server`,
        );
        this.emit({
          type: 'tool.drift',
          tool: change.tool,
          method: 'tools/list',
          trace: call.trace,
          reason: `tool ${change.kind} since the previous session`,
          previousToolFingerprint: change.previous,
          toolFingerprint: change.current,
        });
      }
    }
    store
      .save(current)
      .catch((error: Error) => this.logger.warn(`cannot save the tool baseline: ${error.message}`));
  }

  private scan(frame: ServerMessage, call: PendingCall | undefined, outcome?: Outcome): Buffer | undefined {
    if (!this.config.detectCredentials && !this.secretPathsInForce())
      return this.settled(frame, call, outcome);
    const redacted = scanResponse(frame.text);
    if (!redacted) return this.settled(frame, call, outcome);
    const { detectors, summary } = redacted;
    const method =
      call?.method ?? (typeof frame.message.method === 'string' ? frame.message.method : undefined);
    const where = call
      ? `the response to ${call.method}${call.tool ? ` "${call.tool}"` : ''}`
      : `a ${method ?? 'message'} from the server`;
    const facts = {
      method,
      tool: call?.tool,
      trace: call?.trace,
      requestId: call?.id,
      detectors,
      count: redacted.count,
    };
    if (this.config.credentialAction === 'block' && call) {
      const refused = refusal('response_blocked', withheldReason(redacted), {
        detectors,
        trace_id: call.trace.traceId,
      });
      this.emit({ ...call.audit, ...facts, ...outcome, type: 'response.blocked', reason: refused.message });
      this.logger.warn(`blocked ${where}: it contained ${summary}`);
      return refusalLine(call.rawId, refused);
    }
    if (this.config.credentialAction === 'block' && !('id' in frame.message)) {
      this.emit({
        ...facts,
        type: 'response.blocked',
        reason: `notification withheld: it contained ${summary}`,
      });
      this.logger.warn(`dropped ${where}: it contained ${summary}`);
      return undefined;
    }
    // A call's one record: its own fields (tool, fingerprint, rule, warning) with the redaction and the outcome.
    const warning = call?.audit?.type === 'tool_call.warned' ? `${call.audit.reason}; ` : '';
    this.emit({
      ...call?.audit,
      ...facts,
      ...outcome,
      type: 'response.redacted',
      reason: `${warning}redacted ${redacted.count} value(s): ${summary}`,
    });
    this.logger.warn(`redacted ${redacted.count} value(s) in ${where}: ${summary}`);
    return Buffer.from(`${redacted.text}\n`);
  }

  /**
   * The frame unchanged; the call it answers is recorded with its outcome by `recordAnswered`, once the frame is
   * written to the client (its audit event is then off the answer's path).
   */
  private settled(frame: ServerMessage, call: PendingCall | undefined, outcome: Outcome | undefined): Buffer {
    if (call && outcome) {
      this.answeredCalls.push(call);
      this.answeredOutcomes.push(outcome);
    }
    return frame.raw;
  }

  /**
   * Records the calls answered unchanged by the frames `handle` returned since the last call. The relay calls it
   * right after writing those frames, in the same turn, so every answer is recorded exactly once and in order.
   */
  recordAnswered(): void {
    const calls = this.answeredCalls;
    if (calls.length === 0) return;
    const outcomes = this.answeredOutcomes;
    for (let i = 0; i < calls.length; i++) this.settle(calls[i], outcomes[i]);
    calls.length = 0;
    outcomes.length = 0;
  }

  private settle(call: PendingCall, outcome: Outcome): void {
    if (call.audit) this.emit({ ...call.audit, ...outcome });
  }

  private emit(facts: EventFacts): void {
    this.audit.emit(facts, {
      server: this.config.serverName,
      agent: this.config.agent,
      client: this.session.clientName,
    });
  }
}

type Outcome = Pick<EventFacts, 'outcome' | 'errorClass'>;

function outcomeOf(message: Record<string, unknown>): Outcome {
  const { outcome, error_class } = outcomeOfAnswer(message);
  return { outcome, errorClass: error_class };
}
