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
  /** Said on 401 after "the key was refused …": which flag or variable holds the key. */
  keyHint?: string;
  /** Told before each retry; carries no header or body. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per-call overrides of the client's retry budget (e.g. a quick probe at start-up, one attempt per audit push). */
export interface CallBudget {
  maxAttempts?: number;
  maxTotalMs?: number;
  requestTimeoutMs?: number;
}

export interface PostOptions extends CallBudget {
  /** Same key on every retry of this call; a fresh one per call by default. */
  idempotencyKey?: string;
  /** Said on 403, e.g. which role the call needs. */
  forbiddenHint?: string;
  /**
   * The body's JSON text when the caller already has it (the audit pusher builds a batch from each event's own
   * text): sent as it is instead of `JSON.stringify(body)`, which it must equal.
   */
  json?: string;
}

export interface GetOptions extends CallBudget {
  /** An `ETag` from an earlier answer: a `304` then resolves with `notModified: true`. */
  ifNoneMatch?: string;
  /** Said on 403, e.g. which role the call needs. */
  forbiddenHint?: string;
}

export interface GetResult<T> {
  status: number;
  /** Null on `304 Not Modified`. */
  body: T | null;
  notModified: boolean;
  /** The body exactly as received (absent on 304), e.g. to cache a signed document byte for byte. */
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
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const result = await this.send<T>('POST', target, options, {
      body: options.json ?? JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    });
    return {
      status: result.status,
      body: result.body as T,
      attempts: result.attempts,
      idempotencyKey,
      url: result.url,
    };
  }

  /**
   * GETs JSON with the same retries. With `ifNoneMatch`, a `304 Not Modified` resolves with `body: null` and
   * `notModified: true` (the caller keeps what it has); the response's `ETag` is returned either way.
   */
  async getJson<T>(target: string | URL, options: GetOptions = {}): Promise<GetResult<T>> {
    const result = await this.send<T>('GET', target, options, {
      headers: options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {},
    });
    return { ...result, notModified: result.status === 304 };
  }

  /**
   * `GET /v1/policy/bundle`: the tenant's signed policy bundle, or `notModified` when `etag` still matches. The
   * bundle is returned unverified, with its raw text: verify it with the policy library before use.
   */
  async fetchPolicyBundle(options: { etag?: string } & CallBudget = {}): Promise<GetResult<unknown>> {
    const { etag, ...budget } = options;
    return this.getJson<unknown>(POLICY_BUNDLE_PATH, {
      ...budget,
      ifNoneMatch: etag,
      forbiddenHint: "this key's role cannot read the policy bundle; use a proxy or gateway key",
    });
  }

  /** `GET /v1/policy/verification-key`: the public keys bundles are signed with (shape-checked). */
  async fetchVerificationKeys(options: CallBudget = {}): Promise<GetResult<PolicyVerificationKeys>> {
    const result = await this.getJson<unknown>(POLICY_KEYS_PATH, {
      ...options,
      forbiddenHint: "this key's role cannot read the policy verification keys",
    });
    const body = result.body as Partial<PolicyVerificationKeys> | null;
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
    options: PostOptions = {},
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

  private async send<T>(
    method: 'GET' | 'POST',
    target: string | URL,
    options: { forbiddenHint?: string } & CallBudget,
    request: { body?: string; headers: Record<string, string> },
  ): Promise<{
    status: number;
    body: T | null;
    text?: string;
    attempts: number;
    url: string;
    etag?: string;
  }> {
    const url = typeof target === 'string' ? this.resolve(target) : checkedUrl(target.href);
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
            ...request.headers,
            ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
          },
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
      } catch (error) {
        failure = this.networkError(error, url, attempt, requestTimeoutMs);
        const delay = backoffDelayMs(attempt, this.backoff());
        if (!(await this.waitBeforeRetry(attempt, delay, started, failure.message, budget))) break;
        continue;
      }
      const etag = response.headers.get('etag') ?? undefined;
      if (response.status === 304 && method === 'GET') {
        await response.body?.cancel().catch(() => undefined);
        return { status: 304, body: null, attempts: attempt, url: displayUrl(url), etag };
      }
      const text = await readBounded(response);
      const envelope = errorEnvelope(text);
      if (response.status >= 200 && response.status < 300) {
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          throw new ControlPlaneError(
            'bad-response',
            `the control plane answered ${response.status} with invalid JSON`,
            {
              status: response.status,
              attempts: attempt,
            },
          );
        }
        return {
          status: response.status,
          body: parsed as T,
          text,
          attempts: attempt,
          url: displayUrl(url),
          etag,
        };
      }
      failure = this.httpError(response, envelope, attempt, options, url);
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
    envelope: Envelope,
    attempts: number,
    options: { forbiddenHint?: string },
    url: URL,
  ): ControlPlaneError {
    const status = response.status;
    const said = envelope.message ? `: ${this.clean(envelope.message)}` : '';
    const tag = `${status}${envelope.code ? ` ${envelope.code}` : ''}`;
    const ref = envelope.requestId ? ` [request id ${envelope.requestId}]` : '';
    const details = {
      status,
      code: envelope.code,
      requestId: envelope.requestId,
      reason: envelope.reason,
      attempts,
    };
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
          (this.options.keyHint ?? 'check --push-api-key / AGENT_BOM_PUSH_API_KEY'),
      );
    }
    if (status === 403) {
      // A refusal with a reason is about the endpoint (enrollment), not the key's role: say only what the server said.
      const lead = envelope.reason
        ? "the control plane refused this endpoint's push"
        : (options.forbiddenHint ?? "this key's role may not do this");
      return error('forbidden', `${lead} (${tag}${said})`);
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

interface Envelope {
  code?: string;
  message?: string;
  requestId?: string;
  reason?: string;
}

/** The `{"error":{code,message,request_id,details:{reason}}}` envelope, when the body is one. */
function errorEnvelope(text: string): Envelope {
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; request_id?: unknown; details?: { reason?: unknown } };
    };
    const error = parsed?.error;
    if (!error || typeof error !== 'object') return {};
    const str = (value: unknown) => (typeof value === 'string' && value.length <= 4096 ? value : undefined);
    const requestId = str(error.request_id);
    const reason = str(error.details?.reason);
    return {
      code: str(error.code),
      message: str(error.message),
      requestId: requestId && /^[A-Za-z0-9._:-]{1,128}$/.test(requestId) ? requestId : undefined,
      reason: reason && /^[a-z_]{1,64}$/.test(reason) ? reason : undefined,
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
