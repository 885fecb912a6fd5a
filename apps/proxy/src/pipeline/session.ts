import { randomBytes } from 'node:crypto';
import { idKey, type JsonRpcId as RpcId, type TraceContext } from '../../../../libs/runtime/src/index.js';
import type { EventFacts } from '../audit/events.js';

/** A request forwarded to the server and not answered yet. */
export interface PendingCall {
  readonly id: RpcId;
  /** The id as the client wrote it, echoed verbatim in any answer the proxy makes for it. */
  readonly rawId: string;
  readonly method: string;
  readonly tool?: string;
  readonly trace: TraceContext;
  readonly started: number;
  readonly argumentFingerprint?: string;
  /** `tools/list` asked with a cursor (a later page). */
  readonly cursor?: boolean;
  /** The call's audit event, recorded once the server answers (or cannot), with the outcome. */
  readonly audit?: EventFacts;
  /** Set for the proxy's own requests: their answers are consumed, never forwarded. */
  readonly internal?: { resolve(result: unknown): void; reject(error: Error): void };
}

const MAX_PENDING = 10_000;

/**
 * State of the one MCP session a proxy carries: who the client is, whether the handshake finished, and every
 * request in flight (the client's and the proxy's own), so that each gets exactly one answer.
 */
export class Session {
  readonly pending = new Map<string, PendingCall>();
  /** Ids the client cancelled: their late answers are dropped quietly. */
  private readonly cancelled = new Set<string>();
  clientName?: string;
  /** True once the client sent `notifications/initialized`: the server then accepts requests. */
  initialized = false;
  /** Writes a frame to the server (set by the relay). */
  writeToServer: (frame: Buffer) => void = () => undefined;
  private readonly nonce = randomBytes(6).toString('hex');
  private internalCounter = 0;

  get full(): boolean {
    return this.pending.size >= MAX_PENDING;
  }

  /** Holds a call until its answer; `key` is `idKey(call.id)` when the caller has it already. */
  add(call: PendingCall, key = idKey(call.id)): void {
    this.pending.set(key, call);
  }

  take(key: string): PendingCall | undefined {
    const call = this.pending.get(key);
    if (call) this.pending.delete(key);
    return call;
  }

  /** Forgets a request the client cancelled; returns it (undefined when it was not in flight). */
  cancel(id: RpcId): PendingCall | undefined {
    const key = idKey(id);
    const call = this.pending.get(key);
    if (!call || call.internal) return undefined;
    this.pending.delete(key);
    this.cancelled.add(key);
    if (this.cancelled.size > 1000) this.cancelled.delete(this.cancelled.values().next().value!);
    return call;
  }

  wasCancelled(key: string): boolean {
    return this.cancelled.delete(key);
  }

  /**
   * Sends a request of the proxy's own to the server (e.g. `tools/list` for `--block-undeclared`) with an id the
   * client cannot have in flight (a per-session nonce), and resolves with its `result`.
   */
  request(
    method: string,
    params: Record<string, unknown>,
    trace: TraceContext,
    timeoutMs = 10_000,
  ): Promise<unknown> {
    const id = `agent-bom-proxy:${this.nonce}:${++this.internalCounter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(idKey(id));
        reject(new Error(`the server did not answer ${method} within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      this.add({
        id,
        rawId: JSON.stringify(id),
        method,
        trace,
        started: Date.now(),
        cursor: typeof params.cursor === 'string',
        internal: {
          resolve: (result) => {
            clearTimeout(timer);
            resolve(result);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        },
      });
      const withMeta = { ...params, _meta: { traceparent: trace.traceparent } };
      this.writeToServer(
        Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, method, params: withMeta })}\n`),
      );
    });
  }
}
