import { Agent, type Dispatcher } from 'undici';
import { EgressGuard } from '../../../../libs/runtime/src/index.js';
// The undici connector is the gateway's transport: imported by path so the proxy never loads undici.
import { guardedConnector } from '../../../../libs/runtime/src/egress-connector.js';
import type { Upstream } from '../upstreams/upstream.js';

export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  constructor(
    message: string,
    readonly status: 502 | 503 | 504,
    readonly retryAfterSeconds?: number,
    /** For the audit record: `circuit_open`, `egress_refused`, `timeout` or `connect_<code>`. */
    readonly errorClass = 'unreachable',
  ) {
    super(message);
  }
}

interface Breaker {
  failures: number;
  openUntil: number;
}

const FAILURE_THRESHOLD = 5;
const OPEN_MS = 10_000;

/**
 * Pooled HTTP/1.1 connections to upstreams (undici: one keep-alive pool per origin), with a circuit breaker per
 * upstream: after 5 consecutive connection failures requests fail fast (503, `Retry-After`) for 10 s instead of
 * queueing behind a dead host. Pools and breakers are per origin and per upstream, so one failing upstream
 * never slows another.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly breakers = new Map<string, Breaker>();

  constructor(private readonly options: { connections: number; timeoutMs: number; egress: EgressGuard }) {
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: 0, // streams may idle between events; a client disconnect aborts them
      // Every connection is checked against the egress guard on the address actually connected to.
      connect: guardedConnector(options.egress, { timeout: Math.min(10_000, options.timeoutMs) }),
    });
  }

  /**
   * One request to an upstream. A promise chain rather than an async function: an async wrapper around undici's
   * promise cost a second promise and a microtask turn per relayed call.
   */
  request(
    upstream: Upstream,
    init: {
      method: 'GET' | 'POST' | 'DELETE';
      url?: URL;
      headers: Record<string, string>;
      body?: string;
      signal?: AbortSignal;
    },
  ): Promise<Dispatcher.ResponseData> {
    const key = `${upstream.tenant}\u0000${upstream.name}`;
    const breaker = this.breakers.get(key);
    if (breaker && breaker.openUntil > Date.now()) {
      return Promise.reject(
        new UpstreamUnavailableError(
          `upstream "${upstream.name}" is failing; retry later`,
          503,
          Math.ceil((breaker.openUntil - Date.now()) / 1000),
          'circuit_open',
        ),
      );
    }
    const url = init.url ?? upstream.url;
    let pending: Promise<Dispatcher.ResponseData>;
    try {
      pending = this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers: { ...init.headers, ...upstream.authHeaders() },
        body: init.body,
        signal: init.signal,
      });
    } catch (error) {
      // undici refuses some options synchronously: the same path as a failed request.
      return Promise.reject(this.failure(upstream, key, breaker, init, error));
    }
    return pending.then(
      (response) => {
        this.breakers.delete(key);
        return response;
      },
      (error: unknown) => {
        throw this.failure(upstream, key, breaker, init, error);
      },
    );
  }

  /** What a failed request becomes (and what it does to the upstream's breaker). */
  private failure(
    upstream: Upstream,
    key: string,
    breaker: Breaker | undefined,
    init: { signal?: AbortSignal },
    error: unknown,
  ): unknown {
    if ((error as Error).name === 'AbortError' || init.signal?.aborted) return error;
    const refused = egressRefusal(error);
    if (refused)
      return new UpstreamUnavailableError(
        `upstream "${upstream.name}" is refused by egress: ${refused}`,
        502,
        undefined,
        'egress_refused',
      );
    const next = { failures: (breaker?.failures ?? 0) + 1, openUntil: 0 };
    if (next.failures >= FAILURE_THRESHOLD) next.openUntil = Date.now() + OPEN_MS;
    this.breakers.set(key, next);
    const code = (error as { code?: string }).code ?? (error as Error).name;
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
    return new UpstreamUnavailableError(
      `upstream "${upstream.name}" ${timeout ? 'timed out' : `is unreachable (${code})`}`,
      timeout ? 504 : 502,
      undefined,
      timeout
        ? 'timeout'
        : `connect_${code
            .toLowerCase()
            .replace(/[^a-z0-9_]/g, '_')
            .slice(0, 48)}`,
    );
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}

/** The egress refusal inside an undici error (connect errors may be wrapped), if that is what it is. */
function egressRefusal(error: unknown): string | undefined {
  for (
    let e = error as { code?: string; message?: string; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    i++
  ) {
    if (e.code === 'EGRESS_REFUSED') return e.message;
    e = e.cause as typeof e;
  }
  return undefined;
}
