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
   * One request to an upstream: one promise, settled from undici's callback (its promise form, chained for the
   * breaker, was two promises and a reaction per relayed call).
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
    const target = targetOf(init.url ?? upstream.url);
    // The upstream's credential headers last, over any client header of the same name; no copy without any.
    const auth = upstream.authHeaders();
    let headers = init.headers;
    for (const _ in auth) {
      headers = { ...init.headers, ...auth };
      break;
    }
    return new Promise((resolve, reject) => {
      // undici hands a refused option (thrown while dispatching) to the callback as well, a microtask later.
      this.agent.request(
        {
          origin: target.origin,
          path: target.path,
          method: init.method,
          headers,
          body: init.body,
          signal: init.signal,
        },
        (error, response) => {
          if (error) return reject(this.failure(upstream, key, breaker, init, error));
          this.breakers.delete(key);
          resolve(response);
        },
      );
    });
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

/** A URL's origin and path, as undici takes them: worked out once per URL (its getters build new strings). */
const targets = new WeakMap<URL, { href: string; origin: string; path: string }>();

function targetOf(url: URL): { origin: string; path: string } {
  const known = targets.get(url);
  // A URL is mutable: a remembered target holds only while the URL still reads the same.
  if (known && known.href === url.href) return known;
  const target = { href: url.href, origin: url.origin, path: `${url.pathname}${url.search}` };
  targets.set(url, target);
  return target;
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
