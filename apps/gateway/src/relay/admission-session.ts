import { randomBytes } from 'node:crypto';
import {
  declaredToolStep,
  ERROR_CODES,
  errorResponse,
  driftLine,
  listAllTools,
  ReplayGuard,
  replayPayload,
  replayStep,
  ToolRegistry,
  unlistableTool,
  withoutDriftedTools,
  type JsonRpcId,
  type SessionStepRefusal,
  type TraceContext,
} from '../../../../libs/runtime/src/index.js';
import type { AdmissionContext, Refused } from './admission-steps.js';

/** `--block-undeclared`, `--block-drift` and `--replay-window`, as the gateway config holds them. */
export interface SessionStepConfig {
  readonly blockUndeclared: boolean;
  readonly blockDrift: boolean;
  readonly replayWindowMs: number;
}

/** Replay memory per session: the proxy keeps 10,000 for its one session; the gateway holds many. */
const REPLAY_ENTRIES_PER_SESSION = 1_000;

/**
 * What the gateway remembers of one client session for the session steps: the ids and payloads it forwarded
 * (replay) and the tools the upstream listed in it (undeclared tools, drift). A session is the gateway session
 * id a client presents (`Mcp-Session-Id`, or a legacy SSE `sessionId`) under its tenant, upstream and
 * credential. Requests outside any session (a stateless upstream or revision) share the credential's tool list
 * and are not checked for replay: without a session their ids promise nothing, so two clients may reuse one.
 */
export class ClientSessionState {
  readonly replay: ReplayGuard;
  readonly tools = new ToolRegistry();
  lastUsed = 0;
  /** The gateway's own listing in progress (`--block-undeclared` before anyone listed). */
  listing?: Promise<void>;

  constructor(
    readonly inSession: boolean,
    windowMs: number,
  ) {
    this.replay = new ReplayGuard(inSession ? windowMs : 0, REPLAY_ENTRIES_PER_SESSION);
  }
}

/**
 * The session states of this replica, bounded by count (least recently used forgotten first) and by idle time
 * (forgotten after `idleMs` unused), both in O(1) amortised per call: the map is kept in use order.
 */
export class ClientSessionStates {
  private readonly states = new Map<string, ClientSessionState>();
  /**
   * The state set last (the map's last entry) and what it was asked by: the same credential and session again
   * (every stateless request of one busy client) is answered without building and hashing its key, and without
   * the delete and set that move an entry to the end (a hole in the map per request, dropped by rehashing).
   */
  private newest: ClientSessionState | undefined;
  private newestBinding = '';
  private newestSession: string | undefined;

  constructor(
    readonly config: SessionStepConfig,
    private readonly max = 10_000,
    private readonly idleMs = 30 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.states.size;
  }

  /** The state of a session (`sessionId`), or of the credential's requests outside a session. */
  get(binding: string, sessionId: string | undefined): ClientSessionState {
    const now = this.now();
    for (const [key, state] of this.states) {
      if (state.lastUsed > now - this.idleMs) break;
      this.states.delete(key);
      if (state === this.newest) this.newest = undefined;
    }
    const newest = this.newest;
    if (newest && binding === this.newestBinding && sessionId === this.newestSession) {
      newest.lastUsed = now;
      return newest;
    }
    const key = `${binding}\u0000${sessionId ?? ''}`;
    let state = this.states.get(key);
    if (state) this.states.delete(key);
    else state = new ClientSessionState(sessionId !== undefined, this.config.replayWindowMs);
    state.lastUsed = now;
    this.states.set(key, state);
    this.newest = state;
    this.newestBinding = binding;
    this.newestSession = sessionId;
    while (this.states.size > this.max) this.states.delete(this.states.keys().next().value!);
    if (this.states.size === 0) this.newest = undefined; // a bound below one keeps nothing, not even this
    return state;
  }
}

/**
 * Sends one `tools/list` of the gateway's own (with the cursor, if any) to the upstream in the client's session,
 * under the client message's trace and `_meta` (a 2026-07-28 request names its revision there); its `result`.
 */
export type ToolsLister = (
  cursor: string | undefined,
  trace: TraceContext,
  meta: Record<string, unknown> | undefined,
) => Promise<unknown>;

/** What a route gives admission for the session steps of one client message. */
export interface SessionHooks {
  readonly states: ClientSessionStates;
  readonly state: ClientSessionState;
  readonly listTools: ToolsLister;
}

/** Answer ids of the gateway's own requests: never an id a client has in flight. */
const NONCE = randomBytes(6).toString('hex');
let internalCounter = 0;
export function internalRequestId(): string {
  return `agent-bom-gateway:${NONCE}:${++internalCounter}`;
}

/** A session-step refusal, audited like the proxy's and answered in band with the proxy's code. */
function refuseStep(
  ctx: AdmissionContext,
  refused: SessionStepRefusal,
  type: 'replay.refused' | 'tool_call.denied',
): Refused {
  ctx.deps.audit(ctx.tenant, { ...ctx.event, type, reason: refused.message });
  ctx.count('denied');
  return {
    ok: false,
    status: 200,
    policyDenial: true,
    trace: ctx.trace,
    body: errorResponse(ctx.id, ERROR_CODES[refused.code], refused.message, {
      reason_code: refused.code,
    }),
  };
}

function idKey(id: JsonRpcId | null): string {
  return `${typeof id === 'number' ? 'n' : 's'}:${String(id)}`;
}

/** A request the replay step does not check (outside a session, or not a request): one frozen answer. */
const NOT_REMEMBERED: { payload: string; refused?: Refused } = Object.freeze({ payload: '' });

/**
 * The replay step (libs/runtime): a request of a session whose id and payload were already forwarded inside the
 * window is refused. Returns the payload key to remember once the request is admitted ('' when exempt).
 */
export function replayCheck(
  ctx: AdmissionContext,
  hooks: SessionHooks | undefined,
): { payload: string; refused?: Refused } {
  if (!hooks?.state.replay.enabled || !ctx.isRequest) return NOT_REMEMBERED;
  const params = ctx.message.params;
  const payload = replayPayload(ctx.message.method, params, JSON.stringify(params ?? null));
  const replayed = replayStep(hooks.state.replay, idKey(ctx.id), payload);
  return replayed ? { payload, refused: refuseStep(ctx, replayed, 'replay.refused') } : { payload };
}

/** Remembers an admitted request of a session for the replay step. */
export function rememberForReplay(
  ctx: AdmissionContext,
  hooks: SessionHooks | undefined,
  payload: string,
): void {
  if (payload !== '' && hooks) hooks.state.replay.remember(idKey(ctx.id), payload);
}

/** Whether `toolGate` has anything to check (a tools/call in a session, `--block-undeclared` or `--block-drift`). */
export function gatesTools(ctx: AdmissionContext, hooks: SessionHooks | undefined): hooks is SessionHooks {
  if (!hooks || !ctx.isRequest || ctx.message.method !== 'tools/call' || ctx.tool === undefined) return false;
  const { config } = hooks.states;
  return config.blockUndeclared || config.blockDrift;
}

/**
 * The undeclared and drift steps (libs/runtime) for a `tools/call`: with `--block-undeclared` and no listing in
 * this session yet, the gateway lists the upstream's tools itself first (as the proxy does); a listing that
 * fails refuses the call (fail closed).
 */
export async function toolGate(
  ctx: AdmissionContext,
  hooks: SessionHooks | undefined,
): Promise<Refused | undefined> {
  if (!gatesTools(ctx, hooks) || ctx.tool === undefined) return undefined;
  const { config } = hooks.states;
  const { state } = hooks;
  if (config.blockUndeclared && !state.tools.listed) {
    try {
      state.listing ??= listAllTools(async (cursor) => {
        const meta = ctx.message.params?._meta;
        const result = await hooks.listTools(
          cursor,
          ctx.trace,
          meta && typeof meta === 'object' ? (meta as Record<string, unknown>) : undefined,
        );
        const tools = (result as { tools?: unknown } | undefined)?.tools;
        if (!Array.isArray(tools)) throw new Error('the answer has no tools');
        const next = (result as { nextCursor?: unknown }).nextCursor;
        observeTools(
          ctx.deps,
          ctx.tenant,
          ctx.event,
          state,
          config,
          tools,
          !cursor,
          typeof next !== 'string',
        );
        return result;
      });
      await state.listing;
    } catch (error) {
      return refuseStep(ctx, unlistableTool(ctx.tool, error as Error), 'tool_call.denied');
    } finally {
      state.listing = undefined;
    }
  }
  const refused = declaredToolStep(config, state.tools, ctx.tool);
  return refused ? refuseStep(ctx, refused, 'tool_call.denied') : undefined;
}

/** One page of a listing seen in a session: drift is logged and audited as the proxy does. */
function observeTools(
  deps: AdmissionContext['deps'],
  tenant: string,
  event: AdmissionContext['event'],
  state: ClientSessionState,
  config: SessionStepConfig,
  tools: readonly unknown[],
  firstPage: boolean,
  lastPage: boolean,
): void {
  for (const change of state.tools.observe(tools, firstPage, lastPage)) {
    const blocked = config.blockDrift && change.kind !== 'removed';
    deps.audit(tenant, {
      server: event.server,
      agent: event.agent,
      client: event.client,
      trace_id: event.trace_id,
      span_id: event.span_id,
      type: 'tool.drift',
      method: 'tools/list',
      tool: change.tool,
      // The proxy's drift line; the runtime logs every non-allowed audit event, so this is the log line too.
      reason: driftLine(change, config.blockDrift),
      previous_tool_fingerprint: change.previous,
      tool_fingerprint: change.current,
      ...(blocked ? { decision: 'block' as const } : {}),
    });
  }
}

/**
 * For an admitted `tools/list` of a session: observes the answer (baseline, then drift) and, with
 * `--block-drift`, withholds the tools that drifted. Returns the answer to send (the same object when unchanged).
 */
export function toolsAnswerObserver(
  ctx: AdmissionContext,
  hooks: SessionHooks | undefined,
): ((message: unknown) => unknown) | undefined {
  if (!hooks || !ctx.isRequest || ctx.message.method !== 'tools/list') return undefined;
  const { state, states } = hooks;
  const id = ctx.id;
  const firstPage = typeof ctx.message.params?.cursor !== 'string';
  return (message) => {
    const answer = message as { id?: unknown; result?: { tools?: unknown; nextCursor?: unknown } };
    if (!answer || answer.id !== id || !answer.result || !Array.isArray(answer.result.tools)) return message;
    const tools = answer.result.tools;
    const lastPage = typeof answer.result.nextCursor !== 'string';
    observeTools(ctx.deps, ctx.tenant, ctx.event, state, states.config, tools, firstPage, lastPage);
    const kept = states.config.blockDrift ? withoutDriftedTools(tools, state.tools) : undefined;
    return kept ? { ...answer, result: { ...answer.result, tools: kept } } : message;
  };
}
