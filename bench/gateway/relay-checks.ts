import { hash, randomFillSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { Pool } from 'undici';
import { detectInArgument } from '../../libs/detectors/src/arguments.js';
import { CREDENTIAL_PATTERNS, PII_PATTERNS } from '../../libs/detectors/src/credentials.js';
import { compilePolicy, evaluate, type Decision } from '../../libs/policy/src/index.js';

/**
 * The second limit line of the gateway benchmarks, `relay + checks`: the work the `gateway on` goal requires of
 * every `tools/call`, done by the simplest hand-written code, on the relay's transport (relay.ts). Per call:
 *
 * - the bearer token's SHA-256 looked up in a Map made at start (the gateway caches its introspection: after the
 *   first call it makes no control-plane trip either); the key is introspected once, at start, for its subject;
 * - the body buffered and `JSON.parse`d;
 * - the tool's decision looked up in a Map computed at start from the same 200-rule policy file, as the policy
 *   benchmark's limit line does (one lookup of a precomputed decision);
 * - the argument detectors of `--argument-detectors block` (libs/detectors' own per-string check over every
 *   string of the arguments), and the credential and personal-data patterns of `--detect-credentials` (the
 *   libs/detectors pattern list, the default set) over every string of the buffered answer, which is redacted
 *   when one matches;
 * - one audit event with the fields the gateway sends for a relayed call, as JSON text, pushed to the control
 *   plane's `POST /v1/proxy/audit` with the gateway key, batched as the gateway's pusher batches (500 events, or
 *   what gathered in 1 s, one push in flight).
 *
 * What it leaves out, on purpose (each is the gateway's own, not the goal's work): the trace context spliced into
 * the forwarded request (the bytes go up as they came) and the trace headers of the answer (the event still gets
 * fresh trace and span ids); policy rules that look at argument values (the Map keys the tool only: the baseline
 * pack's secret-path and egress rules, none of which the bench's calls touch); the control plane's policy bundle
 * beside the file (a second precomputed decision would be the same lookup); the strict JSON-RPC shape checks
 * (duplicate members, id types), replay and session bookkeeping, rate limiting, metrics, and the cleaning of
 * audit texts (the bench's names are plain). SSE answers are relayed unscanned (the bench's upstream answers JSON).
 */

/** The default credential and personal-data patterns (`optIn` ones, like `email`, are not in the default set). */
const PATTERNS = [...CREDENTIAL_PATTERNS, ...PII_PATTERNS].filter((p) => !p.optIn);
/** Every pattern in one regex per case mode: a string neither matches holds no match of any pattern. */
const anyOf = (flags: string) =>
  new RegExp(
    PATTERNS.filter((p) => p.regex.flags.includes('i') === (flags === 'i'))
      .map((p) => `(?:${p.regex.source.replace(/\(\?<\w+>/g, '(?:')})`)
      .join('|'),
    flags,
  );
const ANY_CASE_SENSITIVE = anyOf('');
const ANY_CASE_INSENSITIVE = anyOf('i');

/** Trace and span ids from a refilled pool of random bytes (`randomBytes` per call cost ~2.4 µs, the pool 0.13). */
const random = Buffer.alloc(4096);
let randomAt = random.length;
function randomHex(bytes: number): string {
  if (randomAt + bytes > random.length) {
    randomFillSync(random);
    randomAt = 0;
  }
  return random.toString('hex', randomAt, (randomAt += bytes));
}

const BATCH_EVENTS = 500;
const FLUSH_MS = 1000;

interface Options {
  controlPlane: string;
  gatewayKey: string;
  policyFile: string;
  clientKey: string;
  upstream: URL;
  pool: Pool;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where a checked call's answer goes: written by each transport its own way, `out` its response object. */
export interface Sink<Out> {
  /** A whole JSON text (the transport sets its type and length). */
  json(out: Out, status: number, text: string): void;
  /** A non-JSON answer streamed as it came. */
  stream(out: Out, status: number, type: string, body: Readable): void;
  /** The upstream could not be reached: a 502 if nothing was sent yet. */
  fail(out: Out): void;
}

/** The client's identity behind a bearer token (`Authorization` header), or `undefined`. */
export type Authenticate = (authorization: string | undefined) => { subject: string } | undefined;

/** The checks of one call after authentication: the body parsed, decided, forwarded, scanned and audited. */
export type CheckedCall = <Out>(
  who: { subject: string },
  body: Buffer,
  accept: string | undefined,
  out: Out,
  sink: Sink<Out>,
) => void;

/** The checks behind Node's `http` (the relay's transport): the limit line `relay + checks`. */
export async function checkedHandler(
  options: Options,
): Promise<(req: http.IncomingMessage, res: http.ServerResponse) => void> {
  const { authenticate, call } = await checks(options);
  return (req, res) => {
    const who = authenticate(req.headers.authorization);
    if (!who) return writeJson(res, 401, '{"error":"unauthorized"}');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => call(who, Buffer.concat(chunks), req.headers.accept, res, NODE_SINK));
  };
}

const writeJson = (res: http.ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const NODE_SINK: Sink<http.ServerResponse> = {
  json: writeJson,
  stream(res, status, type, body) {
    res.writeHead(status, { 'content-type': type });
    body.pipe(res);
  },
  fail(res) {
    if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
    res.end();
  },
};

/** Made once at start: the key's introspection, the policy's decisions per listed tool, the audit pusher. */
export async function checks(options: Options): Promise<{ authenticate: Authenticate; call: CheckedCall }> {
  const { pool, upstream } = options;
  const controlPlane = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, options.controlPlane), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.gatewayKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      body,
    });

  // Start-up: the client key introspected once (the gateway's cache holds the answer after the first call).
  const answer = (await (
    await controlPlane('/v1/auth/introspect', JSON.stringify({ token: options.clientKey }))
  ).json()) as { active: boolean; subject?: string };
  if (!answer.active) throw new Error('the client key is not active');
  const keys = new Map([[hash('sha256', options.clientKey, 'base64url'), { subject: answer.subject! }]]);

  // Start-up: every tool the upstream lists, decided once by the same policy file.
  const policyText = readFileSync(options.policyFile, 'utf8');
  const policy = compilePolicy(JSON.parse(policyText));
  const policyVersion = `file:${options.policyFile}@sha256:${hash('sha256', policyText, 'hex').slice(0, 16)}`;
  const listed = await pool.request({
    path: upstream.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });
  const tools = ((await listed.body.json()) as { result: { tools: Array<{ name: string }> } }).result.tools;
  const decisions = new Map<string, Decision>();
  for (const { name } of tools)
    decisions.set(
      name,
      evaluate(policy, { method: 'tools/call', tool: name, arguments: {} }, { upstream: 'bench' }),
    );

  // The audit push: texts gathered, one batch of up to 500 in flight, the rest on the next turn or timer.
  const session = randomUUID();
  let queue: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let pushing = false;
  const push = async () => {
    clearTimeout(timer);
    timer = undefined;
    if (pushing || queue.length === 0) return;
    pushing = true;
    const texts = queue.slice(0, BATCH_EVENTS);
    queue = queue.slice(texts.length);
    try {
      const sent = await controlPlane(
        '/v1/proxy/audit',
        `{"source_id":"relay-checks","session_id":"${session}","events":[${texts.join(',')}]}`,
        { 'idempotency-key': randomUUID() },
      );
      await sent.text();
      if (!sent.ok) process.stderr.write(`audit push refused: ${sent.status}\n`);
    } catch (error) {
      process.stderr.write(`audit push failed: ${(error as Error).message}\n`);
    } finally {
      pushing = false;
    }
    if (queue.length >= BATCH_EVENTS) void push();
    else if (queue.length > 0) timer ??= setTimeout(() => void push(), FLUSH_MS);
  };
  const audit = (event: Record<string, unknown>) => {
    queue.push(JSON.stringify(event));
    if (queue.length >= BATCH_EVENTS) void push();
    else timer ??= setTimeout(() => void push(), FLUSH_MS);
  };

  const authenticate: Authenticate = (authorization) => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    return token === undefined ? undefined : keys.get(hash('sha256', token, 'base64url'));
  };

  const call: CheckedCall = (who, body, accept, out, sink) => {
    let message: { id?: string | number; method?: string; params?: { name?: unknown; arguments?: Json } };
    try {
      message = JSON.parse(body.toString('utf8')) as typeof message;
    } catch {
      return sink.json(
        out,
        400,
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}',
      );
    }
    const tool = message.method === 'tools/call' ? String(message.params?.name) : undefined;
    const event: Record<string, unknown> = {
      event_id: randomUUID(),
      type: 'tool_call.allowed',
      timestamp: new Date().toISOString(),
      agent: who.subject,
      server: 'bench',
      method: message.method,
      policy_version: policyVersion,
      tool,
      trace_id: randomHex(16),
      span_id: randomHex(8),
      request_id: message.id === undefined ? undefined : String(message.id),
      argument_fingerprint: `sha256:${hash('sha256', canonical(message.params?.arguments ?? {}), 'hex')}`,
    };
    if (tool !== undefined) {
      const decision = decisions.get(tool) ?? { effect: 'deny', rule_id: null, reason: 'unknown tool' };
      if (decision.rule_id) event.rule_id = decision.rule_id;
      const blocked = argumentFindings(message.params?.arguments ?? {});
      if (decision.effect === 'deny' || blocked.length > 0) {
        event.type = 'tool_call.denied';
        event.reason = decision.effect === 'deny' ? decision.reason : blocked.map((f) => f.reason).join('; ');
        if (blocked.length > 0) event.detectors = [...new Set(blocked.map((f) => f.kind))];
        audit(event);
        return sink.json(
          out,
          200,
          JSON.stringify({
            jsonrpc: '2.0',
            id: message.id,
            error: { code: -32001, message: event.reason },
          }),
        );
      }
      if (decision.effect === 'warn') {
        event.type = 'tool_call.warned';
        event.reason = decision.reason;
      }
    }
    pool
      .request({
        path: upstream.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: accept ?? 'application/json',
          'content-length': String(body.length),
        },
        body,
      })
      .then(async (answer) => {
        const type = String(answer.headers['content-type'] ?? '');
        if (!type.startsWith('application/json')) {
          return sink.stream(out, answer.statusCode, type, answer.body);
        }
        let text = await answer.body.text();
        if (tool !== undefined) {
          const parsed = JSON.parse(text) as Json;
          const redacted = redact(parsed);
          if (redacted > 0) {
            text = JSON.stringify(parsed);
            Object.assign(event, {
              type: 'response.redacted',
              count: redacted,
              reason: `redacted ${redacted} value(s)`,
            });
          }
          const object = parsed as { error?: { code?: number }; result?: { isError?: boolean } };
          if (object.error) {
            event.outcome = 'error';
            event.error_class = `jsonrpc_${object.error.code}`;
          } else if (object.result?.isError === true) {
            event.outcome = 'error';
            event.error_class = 'tool_error';
          } else event.outcome = 'answered';
          audit(event);
        }
        sink.json(out, answer.statusCode, text);
      })
      .catch(() => sink.fail(out));
  };
  return { authenticate, call };
}

/** The argument detectors' high and critical findings over every string of the arguments (`block` mode). */
function argumentFindings(args: Json): Array<{ kind: string; reason: string }> {
  const found: Array<{ kind: string; reason: string }> = [];
  const visit = (value: Json, key: string | undefined) => {
    if (typeof value === 'string')
      detectInArgument(value, key, (kind, severity, reason) => {
        if (severity === 'high' || severity === 'critical') found.push({ kind, reason });
      });
    else if (Array.isArray(value)) for (const item of value) visit(item, key);
    else if (value !== null && typeof value === 'object')
      for (const [name, item] of Object.entries(value)) visit(item, name);
  };
  visit(args, undefined);
  return found;
}

/** Redacts, in place, every credential or personal data in the answer's strings; returns how many. */
function redact(value: Json): number {
  if (value === null || typeof value !== 'object') return 0;
  let count = 0;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') {
      if (!ANY_CASE_SENSITIVE.test(item) && !ANY_CASE_INSENSITIVE.test(item)) continue;
      let text = item;
      for (const pattern of PATTERNS) {
        pattern.regex.lastIndex = 0;
        for (let m = pattern.regex.exec(item); m; m = pattern.regex.exec(item)) {
          if (m[0] === '') pattern.regex.lastIndex++;
          const secret = m.groups?.s ?? m[0];
          if (secret !== '' && (!pattern.validate || pattern.validate(secret, m)) && text.includes(secret)) {
            text = text.replaceAll(secret, `[REDACTED:${pattern.kind}]`);
            count++;
          }
        }
      }
      (value as Record<string, Json>)[key] = text;
    } else count += redact(item);
  }
  return count;
}

/** JSON with object members sorted by name (the argument fingerprint's canonical form). */
function canonical(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
    .join(',')}}`;
}
