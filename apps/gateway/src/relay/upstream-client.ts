import dns from 'node:dns';
import { isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import type { Upstream } from '../upstreams/upstream.js';

/**
 * Addresses an upstream may never resolve to: link-local (cloud metadata at 169.254.169.254, fe80::/10) and
 * the unspecified address. A fleet endpoint reports upstream URLs; without this a laptop could point the
 * shared gateway at the cluster's metadata service.
 */
export function isForbiddenAddress(address: string): boolean {
  const v = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (isIP(v) === 4) return v.startsWith('169.254.') || v === '0.0.0.0';
  if (isIP(v) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v)?.[1];
    if (mapped) return isForbiddenAddress(mapped);
    return /^fe[89ab][0-9a-f]:/.test(v) || v === '::' || v === 'fd00:ec2::254';
  }
  return false;
}

const safeLookup: typeof dns.lookup = ((
  hostname: string,
  options: dns.LookupOptions,
  callback: (...args: unknown[]) => void,
) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => isForbiddenAddress(a.address));
    if (bad)
      return callback(
        Object.assign(new Error(`${hostname} resolves to a forbidden address`), { code: 'EFORBIDDEN' }),
      );
    if (options.all) return callback(null, list);
    return callback(null, list[0].address, list[0].family);
  });
}) as typeof dns.lookup;

export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  constructor(
    message: string,
    readonly status: 502 | 503 | 504,
    readonly retryAfterSeconds?: number,
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

  constructor(private readonly options: { connections: number; timeoutMs: number }) {
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: 0, // streams may idle between events; a client disconnect aborts them
      connect: { timeout: Math.min(10_000, options.timeoutMs), lookup: safeLookup },
    });
  }

  async request(
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
      throw new UpstreamUnavailableError(
        `upstream "${upstream.name}" is failing; retry later`,
        503,
        Math.ceil((breaker.openUntil - Date.now()) / 1000),
      );
    }
    const url = init.url ?? upstream.url;
    if (isIP(url.hostname.replace(/^\[|\]$/g, '')) && isForbiddenAddress(url.hostname)) {
      throw new UpstreamUnavailableError(`upstream "${upstream.name}" points at a forbidden address`, 502);
    }
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers: { ...init.headers, ...upstream.authHeaders() },
        body: init.body,
        signal: init.signal,
      });
      this.breakers.delete(key);
      return response;
    } catch (error) {
      if ((error as Error).name === 'AbortError' || init.signal?.aborted) throw error;
      const next = { failures: (breaker?.failures ?? 0) + 1, openUntil: 0 };
      if (next.failures >= FAILURE_THRESHOLD) next.openUntil = Date.now() + OPEN_MS;
      this.breakers.set(key, next);
      const code = (error as { code?: string }).code ?? (error as Error).name;
      const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new UpstreamUnavailableError(
        `upstream "${upstream.name}" ${timeout ? 'timed out' : `is unreachable (${code})`}`,
        timeout ? 504 : 502,
      );
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }
}
