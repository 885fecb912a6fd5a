import { pipeline, type Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Upstream } from '../upstreams/upstream.js';
import type { Admitted } from './admission.js';
import { errorResponse, ERROR_CODES } from '../../../../libs/runtime/src/index.js';
import { sendError, type RelayDeps } from './relay-context.js';
import { UpstreamUnavailableError } from './upstream-client.js';

/** The upstream's response headers a client sees as they are: one list, read by index (no iterator). */
const PASSED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'mcp-protocol-version',
  'cache-control',
  'x-accel-buffering',
  'retry-after',
  'allow',
  'www-authenticate',
];

/** The upstream's response headers a client may see; an upstream session id is handed out wrapped. */
export function copyResponseHeaders(
  deps: RelayDeps,
  reply: FastifyReply,
  response: Dispatcher.ResponseData,
  binding: string,
  client?: string,
): void {
  for (let k = 0; k < PASSED_RESPONSE_HEADERS.length; k++) {
    const name = PASSED_RESPONSE_HEADERS[k];
    const value = response.headers[name];
    if (typeof value === 'string') reply.header(name, value);
  }
  const session = response.headers['mcp-session-id'];
  if (typeof session === 'string' && session.length <= 1024) {
    reply.header('mcp-session-id', deps.sessions.wrap(binding, { upstreamSessionId: session, client }));
  }
}

export function unknownSession(
  deps: RelayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
): FastifyReply {
  const principal = request.principal!;
  deps.audit(principal.tenant, {
    type: 'request.refused',
    agent: principal.subject,
    server: upstream.name,
    method: request.method === 'POST' ? undefined : `HTTP ${request.method}`,
    reason: 'unknown or foreign Mcp-Session-Id',
  });
  deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'refused' });
  return sendError(reply, 404, errorResponse(null, ERROR_CODES.session_not_found, 'Session not found'));
}

export function upstreamFailure(
  deps: RelayDeps,
  reply: FastifyReply,
  upstream: Upstream,
  error: unknown,
  verdict?: Admitted,
): FastifyReply {
  const id = verdict?.message.kind === 'request' ? verdict.message.message.id : null;
  const known = error instanceof UpstreamUnavailableError;
  deps.metrics.relays.inc({ upstream: upstream.name, outcome: 'upstream_error' });
  if ((error as Error).name === 'AbortError') {
    verdict?.call?.settle({ outcome: 'no_answer', error_class: 'client_gone' });
    return reply; // the client went away
  }
  verdict?.call?.settle({
    outcome: 'upstream_failed',
    error_class: known ? error.errorClass : 'unreachable',
  });
  deps.logger.warn(
    { tenant: upstream.tenant, upstream: upstream.name, error: (error as Error).message },
    'upstream failed',
  );
  const status = known ? error.status : 502;
  const headers: Record<string, string> =
    known && error.retryAfterSeconds ? { 'retry-after': String(error.retryAfterSeconds) } : {};
  return sendError(
    reply,
    status,
    errorResponse(
      id,
      ERROR_CODES.server_unavailable,
      known ? error.message : `upstream "${upstream.name}" failed`,
    ),
    headers,
  );
}

/**
 * Relays an upstream answer as it arrives (SSE streams, large bodies), through the given transforms (filters,
 * scanners, a call's answer tap). The stages form one `pipeline`: the client hanging up, the upstream failing
 * mid-stream or a stage failing tears down every stage, each with an error listener (a stream error nobody
 * listens to ends the process), and a closed client never leaves an upstream stream open.
 */
export function relayStream(
  reply: FastifyReply,
  response: Dispatcher.ResponseData,
  transforms: Transform[] = [],
): FastifyReply {
  tearDownOnClose(reply, response);
  if (transforms.length === 0) return reply.send(response.body);
  // The outcome is the client's side: Fastify sees the last stage end or fail.
  return reply.send(pipeline([response.body, ...transforms], () => undefined));
}

function tearDownOnClose(reply: FastifyReply, response: Dispatcher.ResponseData): void {
  // undici's body emits an error when destroyed before its end; whoever reads it handles that, and this listener
  // keeps a body with no reader (yet) from ending the process.
  response.body.on('error', () => undefined);
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) response.body.destroy();
  });
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value ? value : undefined;
}

/** The whole body as text, or undefined (and the body destroyed) once it passes `max` bytes. */
export async function readBounded(
  body: Dispatcher.ResponseData['body'],
  max: number,
): Promise<string | undefined> {
  return (await readBoundedBytes(body, max))?.toString('utf8');
}

/**
 * The whole body, or undefined (and the body destroyed) once it passes `max` bytes. Read with `data` events: an
 * async iterator cost a promise and an iterator per answer on the relay's hottest path, and undici's
 * `arrayBuffer()` (its consume machinery, then a copy of the chunks into a new buffer) ~2% of the gateway's CPU;
 * an answer of one chunk (what a JSON answer with a Content-Length is) is that chunk, not a copy.
 */
export function readBoundedBytes(
  body: Dispatcher.ResponseData['body'],
  max: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        body.off('data', onData);
        body.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    body.on('data', onData);
    // `on`, not `once`: a body ends once, and a settled promise ignores a later error; `once` wraps each listener
    // (a function and its state per answer) to remove it.
    body.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    body.on('error', reject);
  });
}
