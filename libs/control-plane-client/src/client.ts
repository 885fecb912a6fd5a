import { randomUUID } from 'node:crypto';
import type {
  AuditIngestRequest,
  AuditIngestResult,
  FleetSyncPayload,
  FleetSyncResult,
  PolicyVerificationKeys,
} from '../../contracts/src/index.js';
import { ControlPlaneError, type ControlPlaneErrorKind } from './errors.js';
import { backoffDelayMs, parseRetryAfter, RETRYABLE_STATUSES } from './retry.js';
import {
  AUDIT_PUSH_PATH,
  checkedUrl,
  displayUrl,
  FLEET_SYNC_PATH,
  POLICY_BUNDLE_PATH,
  POLICY_KEYS_PATH,
} from './url.js';

export interface ControlPlaneClientOptions {
  /** Base URL of the control plane (a path prefix is kept). https, or http to a loopback host only. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged, printed or put in an error. */
  apiKey: string;
  /** HTTP attempts per call, retries included (default 5). */
  maxAttempts?: number;
  /** Budget for one call, waits included (default 60 s): no retry starts after it. */
  maxTotalMs?: number;
  /** First backoff delay (default 500 ms), doubled per attempt, capped at `maxDelayMs` (default 15 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Timeout of one HTTP attempt (default 30 s). */
  requestTimeoutMs?: number;
  userAgent?: string;
  /** Where the operator sets the key, named in the "key refused" message (default: the agents command's flags). */
  keyHint?: string;
  /** Told before each retry; carries no header or body. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PostOptions {
  /** Same key on every retry of this call; a fresh one per call by default. */
  idempotencyKey?: string;
  /** Said on 403, e.g. which role the call needs. */
  forbiddenHint?: string;
}

/** Per-call overrides of the client's retry budget (e.g. a quick probe at start-up). */
export interface CallBudget {
  maxAttempts?: number;
  maxTotalMs?: number;
  requestTimeoutMs?: number;
}

export interface GetOptions extends CallBudget {
  /** Sent as `If-None-Match`; a `304` then resolves as `{status: 304}`. */
  ifNoneMatch?: string;
  forbiddenHint?: string;
}

export interface GetResult<T> {
  status: number;
  /** Absent on 304. */
  body?: T;
  /** The raw body as received (absent on 304), e.g. to cache a signed document byte for byte. */
  text?: string;
  etag?: string;
  attempts: number;
  url: string;
}

export interface PostResult<T> {
  status: number;
  body: T;
  attempts: number;
  idempotencyKey: string;
  url: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/g;

/** Largest response body read (the control plane's answers are small). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * A small client of the control plane, shared by `agent-bom agents`, the proxy and the gateway.
 *
 * Guarantees: the API key only ever travels in the `Authorization` header, over https or to a loopback host;
 * a call is retried (same `Idempotency-Key`) on network errors, timeouts, 408, 425, 429, 500, 502, 503 and 504,
 * with exponential backoff and jitter or the server's `Retry-After`, within a bounded number of attempts and a
 * total time budget; any other 4xx fails at once; redirects are not followed (the key would go along).
 */
export class ControlPlaneClient {
  readonly baseUrl: URL;
  private readonly options: Required<
    Omit<ControlPlaneClientOptions, 'onRetry' | 'baseUrl' | 'userAgent' | 'keyHint'>
  > &
    Pick<ControlPlaneClientOptions, 'onRetry' | 'userAgent' | 'keyHint'>;

  constructor(options: ControlPlaneClientOptions) {
    this.baseUrl = checkedUrl(options.baseUrl);
    const apiKey = options.apiKey.trim();
    if (!apiKey || /\s/.test(apiKey) || apiKey.replace(CONTROL_CHARACTERS, '') !== apiKey) {
      throw new ControlPlaneError('invalid-url', 'the API key is empty or contains whitespace');
    }
    this.options = {
      maxAttempts: 5,
      maxTotalMs: 60_000,
      baseDelayMs: 500,
      maxDelayMs: 15_000,
      requestTimeoutMs: 30_000,
      fetch: globalThis.fetch,
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
      apiKey,
    };
  }

  /** Resolves a path (`/v1/...`) against the base URL, keeping its path prefix. */
  resolve(path: string): URL {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    url.search = '';
    return url;
  }

  /**
   * Pushes fleet inventory: `POST /v1/fleet/sync` (or `url` when the operator gave a full endpoint URL).
   */
  async syncFleet(
    payload: FleetSyncPayload,
    options: PostOptions & { url?: URL } = {},
  ): Promise<PostResult<FleetSyncResult>> {
    const result = await this.postJson<unknown>(options.url ?? FLEET_SYNC_PATH, payload, {
      forbiddenHint: "this key's role cannot push fleet inventory; use a fleet-push key",
      ...options,
    });
    const body = result.body as Partial<FleetSyncResult> | null;
    if (
      !body ||
      typeof body.source_id !== 'string' ||
      typeof body.synced !== 'number' ||
      typeof body.new !== 'number' ||
      typeof body.updated !== 'number'
    ) {
      throw new ControlPlaneError(
        'bad-response',
        'the control plane answered 2xx without a fleet sync result',
        {
          status: result.status,
          attempts: result.attempts,
        },
      );
    }
    return { ...result, body: body as FleetSyncResult };
  }

  /** POSTs JSON with retries; resolves with the parsed 2xx body or rejects with a `ControlPlaneError`. */
  async postJson<T>(target: string | URL, body: unknown, options: PostOptions = {}): Promise<PostResult<T>> {
    const url = typeof target === 'string' ? this.resolve(target) : checkedUrl(target.href);
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const { response, text, attempts } = await this.exchange(
      'POST',
      url,
      { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      JSON.stringify(body),
      options,
    );
    return {
      status: response.status,
      body: parseJson<T>(text, response.status, attempts),
      attempts,
      idempotencyKey,
      url: displayUrl(url),
    };
  }

  /**
   * GETs JSON with retries. With `ifNoneMatch`, a `304 Not Modified` resolves as `{status: 304}` (no body);
   * a 2xx resolves with the body, its raw text and the `ETag`.
   */
  async getJson<T>(target: string | URL, options: GetOptions = {}): Promise<GetResult<T>> {
    const url = typeof target === 'string' ? this.resolve(target) : checkedUrl(target.href);
    const { response, text, attempts } = await this.exchange(
      'GET',
      url,
      options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {},
      undefined,
      options,
    );
    const etag = response.headers.get('etag') ?? undefined;
    if (response.status === 304) return { status: 304, attempts, etag, url: displayUrl(url) };
    return {
      status: response.status,
      body: parseJson<T>(text, response.status, attempts),
      text,
      etag,
      attempts,
      url: displayUrl(url),
    };
  }

  /**
   * `GET /v1/policy/bundle`: the tenant's signed policy bundle, or `{status: 304}` when `etag` still matches.
   * The bundle is returned unverified (with its raw text): verify it with the policy library before use.
   */
  async fetchPolicyBundle(options: { etag?: string } & CallBudget = {}): Promise<GetResult<unknown>> {
    return this.getJson<unknown>(POLICY_BUNDLE_PATH, {
      ...options,
      ifNoneMatch: options.etag,
      forbiddenHint: "this key's role cannot read the policy bundle; use a proxy or gateway key",
    });
  }

  /** `GET /v1/policy/verification-key`: the public keys bundles are signed with. */
  async fetchVerificationKeys(options: CallBudget = {}): Promise<GetResult<PolicyVerificationKeys>> {
    const result = await this.getJson<unknown>(POLICY_KEYS_PATH, {
      ...options,
      forbiddenHint: "this key's role cannot read the policy verification keys",
    });
    const body = result.body as Partial<PolicyVerificationKeys> | undefined;
    if (
      !body ||
      !Array.isArray(body.keys) ||
      !body.keys.every(
        (key) =>
          key &&
          typeof key.key_id === 'string' &&
          (typeof key.public_key_pem === 'string' || (typeof key.jwk === 'object' && key.jwk !== null)),
      )
    ) {
      throw new ControlPlaneError('bad-response', 'the control plane answered without verification keys', {
        status: result.status,
        attempts: result.attempts,
      });
    }
    return { ...result, body: body as PolicyVerificationKeys };
  }

  /** `POST /v1/proxy/audit`: one batch of runtime events (re-sending is harmless: events carry their ids). */
  async pushAudit(
    batch: AuditIngestRequest,
    options: PostOptions & CallBudget = {},
  ): Promise<PostResult<AuditIngestResult>> {
    const result = await this.postJson<unknown>(AUDIT_PUSH_PATH, batch, {
      forbiddenHint: "this key's role cannot write audit events; use a proxy or gateway key",
      ...options,
    });
    const body = result.body as Partial<AuditIngestResult> | null;
    if (!body || typeof body.accepted !== 'number' || typeof body.duplicates !== 'number') {
      throw new ControlPlaneError('bad-response', 'the control plane answered 2xx without an audit result', {
        status: result.status,
        attempts: result.attempts,
      });
    }
    return { ...result, body: body as AuditIngestResult };
  }

  /**
   * One call with retries: resolves with the 2xx (or, for GET, 304) response and its bounded text, or
   * rejects with a `ControlPlaneError` once the attempts or the time budget are spent.
   */
  private async exchange(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    options: PostOptions & CallBudget,
  ): Promise<{ response: Response; text: string; attempts: number }> {
    const maxAttempts = options.maxAttempts ?? this.options.maxAttempts;
    const maxTotalMs = options.maxTotalMs ?? this.options.maxTotalMs;
    const requestTimeoutMs = options.requestTimeoutMs ?? this.options.requestTimeoutMs;
    const budget = { maxAttempts, maxTotalMs };
    const started = Date.now();
    let failure: ControlPlaneError | undefined;

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let response: Response;
      try {
        response = await this.options.fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.options.apiKey}`,
            accept: 'application/json',
            ...headers,
            ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
      } catch (error) {
        failure = this.networkError(error, url, attempt, requestTimeoutMs);
        const delay = backoffDelayMs(attempt, this.backoff());
        if (!(await this.waitBeforeRetry(attempt, delay, started, failure.message, budget))) break;
        continue;
      }

      const text = await readBounded(response);
      if (
        (response.status >= 200 && response.status < 300) ||
        (method === 'GET' && response.status === 304)
      ) {
        return { response, text, attempts: attempt };
      }
      failure = this.httpError(response, errorEnvelope(text), attempt, options, url);
      if (!RETRYABLE_STATUSES.has(response.status)) throw failure;
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      const delay = retryAfter ?? backoffDelayMs(attempt, this.backoff());
      if (retryAfter !== undefined && Date.now() - started + retryAfter > maxTotalMs) {
        throw new ControlPlaneError(
          failure.kind,
          `${failure.message}; it asks to retry after ${Math.ceil(retryAfter / 1000)}s, beyond this run's budget`,
          failure.details,
        );
      }
      if (!(await this.waitBeforeRetry(attempt, delay, started, `HTTP ${response.status}`, budget))) break;
    }
    throw failure ?? new ControlPlaneError('network', 'no attempt was made');
  }

  private backoff() {
    return { baseMs: this.options.baseDelayMs, maxMs: this.options.maxDelayMs, random: this.options.random };
  }

  /** Sleeps before the next attempt; false when there is none (attempts or time budget spent). */
  private async waitBeforeRetry(
    attempt: number,
    delayMs: number,
    started: number,
    reason: string,
    budget: { maxAttempts: number; maxTotalMs: number },
  ) {
    if (attempt >= budget.maxAttempts) return false;
    if (Date.now() - started + delayMs > budget.maxTotalMs) return false;
    this.options.onRetry?.({ attempt, delayMs, reason });
    await this.options.sleep(delayMs);
    return true;
  }

  private networkError(error: unknown, url: URL, attempts: number, timeoutMs: number): ControlPlaneError {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
    const reason = timedOut
      ? `no answer within ${Math.round(timeoutMs / 1000)}s`
      : typeof cause?.code === 'string'
        ? cause.code
        : 'network error';
    return new ControlPlaneError(
      timedOut ? 'timeout' : 'network',
      `cannot reach the control plane at ${url.host} (${reason}, after ${attempts} attempt${attempts > 1 ? 's' : ''})`,
      { attempts },
    );
  }

  private httpError(
    response: Response,
    envelope: { code?: string; message?: string; requestId?: string },
    attempts: number,
    options: PostOptions,
    url: URL,
  ): ControlPlaneError {
    const status = response.status;
    const said = envelope.message ? `: ${this.clean(envelope.message)}` : '';
    const tag = `${status}${envelope.code ? ` ${envelope.code}` : ''}`;
    const ref = envelope.requestId ? ` [request id ${envelope.requestId}]` : '';
    const details = { status, code: envelope.code, requestId: envelope.requestId, attempts };
    const error = (kind: ControlPlaneErrorKind, message: string) =>
      new ControlPlaneError(kind, `${message}${ref}`, details);
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      let where = '';
      try {
        if (location) where = ` to ${displayUrl(new URL(location, url))}`;
      } catch {
        // unparsable Location: say nothing more
      }
      return error(
        'redirect',
        `the control plane answered ${status} with a redirect${where}; use the final URL`,
      );
    }
    if (status === 401) {
      return error(
        'unauthorized',
        `the key was refused by the control plane (${tag}${said}): it is unknown, revoked or expired; ` +
          `check ${this.options.keyHint ?? '--push-api-key / AGENT_BOM_PUSH_API_KEY'}`,
      );
    }
    if (status === 403) {
      return error(
        'forbidden',
        `${options.forbiddenHint ?? "this key's role may not do this"} (${tag}${said})`,
      );
    }
    if (status === 409) return error('conflict', `the control plane refused the request (${tag}${said})`);
    if (status === 429) {
      return error(
        'rate-limited',
        `the control plane is rate limiting or over quota (${tag}${said}, after ${attempts} attempt${attempts > 1 ? 's' : ''})`,
      );
    }
    if (status >= 500 || RETRYABLE_STATUSES.has(status)) {
      return error(
        'server',
        `the control plane failed (${tag}${said}, after ${attempts} attempt${attempts > 1 ? 's' : ''})`,
      );
    }
    return error('rejected', `the control plane refused the request (${tag}${said})`);
  }

  /** Server text, bounded and stripped of control characters and of the key (should a server echo it). */
  private clean(text: string): string {
    const plain = text.replace(CONTROL_CHARACTERS, ' ').split(this.options.apiKey).join('[redacted]');
    return plain.length > 300 ? `${plain.slice(0, 297)}...` : plain;
  }
}

function parseJson<T>(text: string, status: number, attempts: number): T {
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    throw new ControlPlaneError('bad-response', `the control plane answered ${status} with invalid JSON`, {
      status,
      attempts,
    });
  }
}

/** The `{"error":{code,message,request_id}}` envelope, when the body is one. */
function errorEnvelope(text: string): { code?: string; message?: string; requestId?: string } {
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; request_id?: unknown };
    };
    const error = parsed?.error;
    if (!error || typeof error !== 'object') return {};
    const str = (value: unknown) => (typeof value === 'string' && value.length <= 4096 ? value : undefined);
    const requestId = str(error.request_id);
    return {
      code: str(error.code),
      message: str(error.message),
      requestId: requestId && /^[A-Za-z0-9._:-]{1,128}$/.test(requestId) ? requestId : undefined,
    };
  } catch {
    return {};
  }
}

async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        break;
      }
      chunks.push(value);
    }
  } catch {
    // a body cut short: use what arrived
  }
  return Buffer.concat(chunks).toString('utf8');
}
