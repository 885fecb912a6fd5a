import { fingerprint, withoutMeta } from './fingerprint.js';
import type { DeferredPayload, ReplayGuard, ReplayPayload } from './replay.js';
import type { DriftChange, ToolRegistry } from './tools.js';

/**
 * The session steps of the decision pipeline, the same in the proxy (one stdio session) and the gateway (per
 * client session): replay, undeclared tools and tool drift. Each step returns a refusal — a reason code both
 * runtimes answer with the same JSON-RPC error code, and the message — or undefined to go on.
 */
export type SessionStepCode = 'replay' | 'undeclared_tool' | 'tool_drift';

export interface SessionStepRefusal {
  readonly code: SessionStepCode;
  readonly message: string;
}

/** `--block-undeclared` and `--block-drift`. */
export interface ToolGateFlags {
  readonly blockUndeclared: boolean;
  readonly blockDrift: boolean;
}

/**
 * Requests that only set up or keep up the session, or list: neither checked for replay nor remembered.
 * Re-sending them changes nothing, and a flood of them must not evict the calls that act (nor cost a
 * fingerprint each).
 */
export function replayExempt(method: string): boolean {
  return (
    method === 'initialize' ||
    method === 'ping' ||
    method.endsWith('/list') ||
    method.startsWith('notifications/')
  );
}

/**
 * What replay memory keys a request by besides its id: the fingerprint of its method and params without
 * `_meta` (a replay with a fresh `traceparent` is still the same call); '' for a request that is exempt.
 * `text` is the request as received, digested instead when the params are not I-JSON.
 */
export function replayPayload(method: string, params: unknown, text: string): string {
  if (replayExempt(method)) return '';
  return fingerprint({ method, params: withoutMeta(params) }, text);
}

/** Messages up to this many characters keep their text in the replay guard instead of a fingerprint. */
const DEFER_UP_TO = 512;

/**
 * `replayPayload` of a request whose whole message text is `text`, computed only if the replay guard compares it
 * (when the same id comes again inside the window): the same fingerprint, without canonical JSON and a digest per
 * call. Once the guard keeps it, it holds only the text (at most 512 characters; longer ones are fingerprinted at
 * once) and parses it again if ever needed.
 */
export function messagePayload(method: string, params: unknown, text: string): ReplayPayload {
  if (replayExempt(method)) return '';
  if (text.length > DEFER_UP_TO) return replayPayload(method, params, text);
  return new MessagePayload(method, params, text);
}

class MessagePayload implements DeferredPayload {
  private value: string | undefined;
  private retained = false;

  constructor(
    private readonly method: string,
    private params: unknown,
    private text: string,
  ) {}

  fingerprint(): string {
    if (this.value === undefined) {
      const params = this.retained ? (JSON.parse(this.text) as { params?: unknown }).params : this.params;
      this.value = replayPayload(this.method, params, this.text);
      this.params = undefined;
      this.text = '';
    }
    return this.value;
  }

  retain(): void {
    this.params = undefined;
    this.retained = true;
  }
}

/** The replay step: the same id and payload already let through inside the window are refused. */
export function replayStep(
  guard: ReplayGuard,
  idKey: string,
  payload: ReplayPayload,
): SessionStepRefusal | undefined {
  if (payload === '' || !guard.isReplay(idKey, payload)) return undefined;
  return { code: 'replay', message: 'replayed request: the same id and payload were already sent' };
}

/**
 * The undeclared and drift steps for a `tools/call` of `tool` once the session's tools are listed: with
 * `--block-undeclared` the tool must be in the server's `tools/list`; with `--block-drift` it must not have
 * changed or appeared after the first complete listing.
 */
export function declaredToolStep(
  flags: ToolGateFlags,
  tools: ToolRegistry,
  tool: string,
): SessionStepRefusal | undefined {
  if (flags.blockUndeclared && !tools.has(tool)) {
    return {
      code: 'undeclared_tool',
      message: `tool "${shortToolName(tool)}" is not declared by the server's tools/list`,
    };
  }
  const drift = flags.blockDrift ? tools.driftOf(tool) : undefined;
  if (drift) {
    return {
      code: 'tool_drift',
      message: `tool "${shortToolName(tool)}" was ${drift} after the first tools/list; calls to it are blocked`,
    };
  }
  return undefined;
}

/** The undeclared step when the tools cannot be listed: the call is refused (fail closed). */
export function unlistableTool(tool: string, why: 'not_initialized' | Error): SessionStepRefusal {
  return {
    code: 'undeclared_tool',
    message:
      why === 'not_initialized'
        ? `tool "${shortToolName(tool)}" was called before the session was initialized, so there is no tools/list to check it against`
        : `cannot check tool "${shortToolName(tool)}": the server's tools/list failed (${why.message})`,
  };
}

/**
 * Lists every page of the server's tools (at most 100) through `requestPage`, which sends one `tools/list`
 * (with the cursor, when there is one) and resolves with its `result`; whoever sees the answers observes them.
 */
export async function listAllTools(
  requestPage: (cursor: string | undefined) => Promise<unknown>,
): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = (await requestPage(cursor)) as { nextCursor?: unknown } | undefined;
    cursor = typeof result?.nextCursor === 'string' ? result.nextCursor : undefined;
    if (!cursor) return;
  }
  throw new Error('more than 100 pages of tools');
}

/** With `--block-drift`, the tools of a listing that drifted are withheld (undefined: nothing to withhold). */
export function withoutDriftedTools(
  tools: readonly unknown[],
  registry: ToolRegistry,
): unknown[] | undefined {
  const kept = tools.filter(
    (tool) =>
      !(
        tool &&
        typeof tool === 'object' &&
        typeof (tool as { name?: unknown }).name === 'string' &&
        registry.driftOf((tool as { name: string }).name)
      ),
  );
  return kept.length === tools.length ? undefined : kept;
}

/** The log line for one drift change (`blocked`: `--block-drift` blocks calls to it). */
export function driftLine(change: DriftChange, blocked: boolean): string {
  return `tool drift: "${change.tool}" was ${change.kind} after the first tools/list${blocked && change.kind !== 'removed' ? ' (blocked)' : ''}`;
}

/** A tool name fit to quote in a message: bounded (loggers and audit sanitise further). */
export function shortToolName(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}...` : name;
}
