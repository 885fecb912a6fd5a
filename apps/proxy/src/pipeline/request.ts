import {
  fingerprint,
  type FrameShape,
  idKey,
  isObject,
  type JsonRpcId as RpcId,
  listAllTools,
  newTrace,
  parseTraceparent,
  messagePayload,
  type ReplayGuard,
  type ReplayPayload,
  replayStep,
  toolCallShapeError,
  type ToolRegistry,
  type TraceContext,
  unlistableTool,
  traceparentInsertion,
  withoutMeta,
} from '../../../../libs/runtime/src/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import type { EventFacts } from '../audit/events.js';
import type { ProxyConfig } from '../config.js';
import { refusal, type Refusal } from '../errors.js';
import type { ProxyLogger } from '../logger.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { RateLimiter } from './rate-limit.js';
import {
  checkArguments,
  checkDeclared,
  checkPolicy,
  short,
  type Denial,
  type Warnings,
} from './request-checks.js';
import type { PendingCall, Session } from './session.js';

/** A client request, parsed and shape-checked. */
export interface ClientRequest {
  readonly id: RpcId;
  readonly rawId: string;
  readonly method: string;
  readonly params: unknown;
  readonly text: string;
  readonly raw: Buffer;
  readonly shape: FrameShape;
}

/**
 * A request cleared to go: the bytes to write, the call to hold until the server answers (under `key`, its id's
 * map key), and the payload replay detection remembers. The relay writes first and files the call and the payload
 * right after, in the same turn (`RequestPipeline.remember`, `Session.add`): nothing can read the answer or handle
 * the next client frame before that, and the bookkeeping is off the path between reading a frame and writing it on.
 */
export interface ForwardedRequest {
  readonly forward: Buffer;
  readonly pending: PendingCall;
  readonly key: string;
  readonly payload: ReplayPayload;
}

export type RequestOutcome = ForwardedRequest | { readonly refuse: Refusal; readonly rawId: string };

/** Requests that only set up or keep up the session: no policy, detectors or rate limit. */
const PLUMBING = new Set(['initialize', 'ping']);

/**
 * The client → server checks, in order; the first refusal wins and the request never reaches the server:
 *
 * 1. in-flight id (a second request with an id still pending is refused: answers could not be told apart);
 * 2. replay (the same id and payload already forwarded inside the window);
 * 3. `tools/call` shape (`name` a string, `arguments` an object when present);
 * 4. undeclared tool (`--block-undeclared`; the proxy lists the tools itself if nobody has yet);
 * 5. tool drift (`--block-drift`: tools changed or added after the first listing);
 * 6. per-tool rate limit (before policy, as in the gateway and the order of #16: a call the policy denies still
 *    spends it, so probing a denied tool is throttled too);
 * 7. policy (local file, then control-plane bundle; both must allow);
 * 8. argument detectors (high/critical block, unless `--argument-detectors warn|off`; unreadable arguments block).
 *
 * A forwarded request keeps its bytes, except that a `traceparent` is spliced into `params._meta` when it had
 * none. Every refusal, warning and allowed `tools/call` is audited with the trace id and an argument fingerprint.
 */
export class RequestPipeline {
  constructor(
    private readonly config: ProxyConfig,
    private readonly logger: ProxyLogger,
    private readonly audit: AuditSink,
    private readonly policies: PolicySet,
    private readonly tools: ToolRegistry,
    private readonly replay: ReplayGuard,
    private readonly limiter: RateLimiter,
    private readonly session: Session,
  ) {}

  handle(request: ClientRequest): RequestOutcome | Promise<RequestOutcome> {
    const params = request.params;
    const meta = isObject(params) && isObject(params._meta) ? params._meta : undefined;
    const trace = parseTraceparent(meta?.traceparent) ?? newTrace();
    const key = idKey(request.id);
    const base = { method: request.method, trace, requestId: request.id };

    if (this.session.pending.has(key)) {
      return this.refuse(
        request,
        trace,
        refusal('invalid_request', `id ${request.rawId.slice(0, 64)} is already in flight`),
      );
    }
    // Plumbing (ping, */list, initialize) is neither checked for replay nor remembered (libs/runtime). The
    // fingerprint is computed only if the same id comes again inside the window.
    const payload = messagePayload(request.method, params, request.text);
    const replayed = replayStep(this.replay, key, payload);
    if (replayed) {
      const refused = refusal(replayed.code, replayed.message, { trace_id: trace.traceId });
      this.emit({ ...base, type: 'replay.refused', tool: toolName(request), reason: refused.message });
      this.logger.warn(`refused a replay of ${request.method} (id ${request.rawId.slice(0, 32)})`);
      return this.refuse(request, trace, refused);
    }
    if (this.session.full) {
      return this.refuse(request, trace, refusal('invalid_request', 'too many requests in flight'));
    }
    if (PLUMBING.has(request.method)) {
      if (request.method === 'initialize') this.noteClient(params);
      return this.forward(request, key, trace, payload);
    }

    let tool: string | undefined;
    let args: unknown;
    if (request.method === 'tools/call') {
      const shapeError = toolCallShapeError(params);
      if (shapeError !== undefined || !isObject(params) || typeof params.name !== 'string') {
        return this.refuse(request, trace, refusal('invalid_params', shapeError ?? 'bad tools/call'));
      }
      tool = params.name;
      args = params.arguments ?? {};
      if (this.config.blockUndeclared && !this.tools.listed) {
        const name = tool;
        const undeclared = (why: 'not_initialized' | Error) => {
          const refused = unlistableTool(name, why);
          return this.deny(request, trace, name, args, { refused: refusal(refused.code, refused.message) });
        };
        // 2026-07-28 clients are stateless: no initialize, each request carries its revision in _meta. The
        // proxy lists the tools itself with the same envelope, so the gate opens for them too.
        const envelope = statelessEnvelope(meta);
        if (!this.session.initialized && !envelope) {
          return undeclared('not_initialized');
        }
        return this.listTools(trace, envelope).then(
          () => this.afterListing(request, key, trace, payload, name, args),
          (error: Error) => undeclared(error),
        );
      }
    } else {
      args = withoutMeta(params);
    }
    return this.afterListing(request, key, trace, payload, tool, args);
  }

  private afterListing(
    request: ClientRequest,
    key: string,
    trace: TraceContext,
    payload: ReplayPayload,
    tool: string | undefined,
    args: unknown,
  ): RequestOutcome {
    const undeclared = tool !== undefined ? checkDeclared(this.config, this.tools, tool) : undefined;
    if (undeclared) return this.deny(request, trace, tool, args, undeclared);
    const limited = tool !== undefined ? this.rateLimit(request, trace, tool, args) : undefined;
    if (limited) return limited;
    const warnings: Warnings = { texts: [], ruleId: null };
    const denial =
      checkPolicy(
        this.policies,
        { method: request.method, tool, arguments: args },
        this.context(),
        trace,
        warnings,
      ) ?? checkArguments(this.config.argumentDetectors, args, trace, warnings);
    if (denial) return this.deny(request, trace, tool, args, denial);

    // Only the call's audit event carries it: not computed when nothing takes events.
    const argumentFingerprint = tool !== undefined && this.audit.takesEvents ? fingerprint(args) : undefined;
    const facts = { method: request.method, trace, requestId: request.id, argumentFingerprint };
    // Held with the call and recorded once, with the outcome, when the server answers (response pipeline).
    let audit: EventFacts | undefined;
    if (warnings.texts.length > 0) {
      const reason = warnings.texts.join('; ');
      audit = {
        ...facts,
        type: 'tool_call.warned',
        tool: tool ?? request.method,
        ruleId: warnings.ruleId,
        reason,
        policyVersion: warnings.policyVersion,
      };
      this.logger.warn(`warning on ${tool ? `tool "${short(tool)}"` : request.method}: ${reason}`);
    } else if (tool !== undefined) {
      audit = { ...facts, type: 'tool_call.allowed', tool, policyVersion: this.policies.bundleVersion };
    }
    return this.forward(request, key, trace, payload, tool, argumentFingerprint, audit);
  }

  /** Step 6: takes one call of `tool` from the per-tool limit; a refusal when it is spent (audited). */
  private rateLimit(
    request: ClientRequest,
    trace: TraceContext,
    tool: string,
    args: unknown,
  ): RequestOutcome | undefined {
    if (!this.limiter.enabled) return undefined;
    const wait = this.limiter.take(tool);
    if (wait <= 0) return undefined;
    const refused = refusal(
      'rate_limited',
      `rate limit: tool "${short(tool)}" may be called ${this.config.rateLimitPerMinute} times per minute`,
      { retry_after_ms: wait, trace_id: trace.traceId },
    );
    this.emit({
      tool,
      method: request.method,
      trace,
      requestId: request.id,
      type: 'rate_limit.exceeded',
      reason: refused.message,
      argumentFingerprint: fingerprint(args),
    });
    this.logger.warn(refused.message);
    return this.refuse(request, trace, refused);
  }

  /**
   * Remembers a forwarded request's payload in the replay guard: the same id and payload is refused from the next
   * frame on. Called once its bytes are written (see `ForwardedRequest`).
   */
  remember(outcome: ForwardedRequest): void {
    if (outcome.payload !== '') this.replay.remember(outcome.key, outcome.payload);
  }

  private forward(
    request: ClientRequest,
    key: string,
    trace: TraceContext,
    payload: ReplayPayload,
    tool?: string,
    argumentFingerprint?: string,
    audit?: EventFacts,
  ): ForwardedRequest {
    let frame = request.raw;
    if (trace.generated) {
      const edit = traceparentInsertion(request.shape, trace.traceparent);
      if (edit) frame = spliced(request, edit.at, edit.insert);
    }
    const params = request.params;
    return {
      forward: frame,
      key,
      payload,
      pending: {
        id: request.id,
        rawId: request.rawId,
        method: request.method,
        tool,
        trace,
        started: Date.now(),
        argumentFingerprint,
        audit,
        cursor: request.method === 'tools/list' && isObject(params) && params.cursor !== undefined,
      },
    };
  }

  private deny(
    request: ClientRequest,
    trace: TraceContext,
    tool: string | undefined,
    args: unknown,
    denial: Denial,
  ): RequestOutcome {
    const { refused } = denial;
    refused.data.trace_id ??= trace.traceId;
    this.emit({
      type: 'tool_call.denied',
      tool: tool ?? request.method,
      method: request.method,
      trace,
      requestId: request.id,
      ruleId: denial.ruleId ?? null,
      reason: refused.message,
      argumentFingerprint: fingerprint(args),
      policyVersion: denial.policyVersion,
      detectors: denial.detectors,
    });
    this.logger.warn(`${refused.name.replace('_', ' ')}: ${refused.message}`);
    return { refuse: refused, rawId: request.rawId };
  }

  private refuse(request: ClientRequest, trace: TraceContext, refused: Refusal): RequestOutcome {
    refused.data.trace_id ??= trace.traceId;
    return { refuse: refused, rawId: request.rawId };
  }

  private async listTools(trace: TraceContext, envelope?: Record<string, unknown>): Promise<void> {
    await listAllTools((cursor) =>
      this.session.request(
        'tools/list',
        { ...(cursor ? { cursor } : {}), ...(envelope ? { _meta: envelope } : {}) },
        trace,
      ),
    );
  }

  private noteClient(params: unknown): void {
    const info = isObject(params) && isObject(params.clientInfo) ? params.clientInfo : undefined;
    if (typeof info?.name === 'string') this.session.clientName = info.name.slice(0, 200);
  }

  private context() {
    return {
      agent: this.config.agent ?? this.session.clientName,
      client: this.session.clientName,
      environment: this.config.environment,
      upstream: this.config.serverName,
    };
  }

  private emit(facts: EventFacts): void {
    this.audit.emit(facts, {
      server: this.config.serverName,
      agent: this.config.agent,
      client: this.session.clientName,
    });
  }
}

/**
 * The request's bytes with `insert` put before text position `at`. In an ASCII frame (as many bytes as
 * characters, newline aside) text positions are byte positions: the bytes are copied around the insertion
 * instead of encoding the whole text again.
 */
function spliced(request: ClientRequest, at: number, insert: string): Buffer {
  const { raw, text } = request;
  if (raw[raw.length - 1] !== 0x0a || raw.length - 1 !== text.length)
    return Buffer.from(`${text.slice(0, at)}${insert}${text.slice(at)}\n`);
  // The insertion is ASCII (JSON punctuation, member names and a traceparent): one character, one byte.
  const out = Buffer.allocUnsafe(raw.length + insert.length);
  raw.copy(out, 0, 0, at);
  out.write(insert, at, 'latin1');
  raw.copy(out, at + insert.length, at);
  return out;
}

function toolName(request: ClientRequest): string | undefined {
  return request.method === 'tools/call' &&
    isObject(request.params) &&
    typeof request.params.name === 'string'
    ? request.params.name
    : undefined;
}

/** The `io.modelcontextprotocol/*` members of a 2026-07-28 request's `_meta`, when it names its revision. */
function statelessEnvelope(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta || typeof meta['io.modelcontextprotocol/protocolVersion'] !== 'string') return undefined;
  const envelope: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key.startsWith('io.modelcontextprotocol/')) envelope[key] = value;
  }
  return envelope;
}
