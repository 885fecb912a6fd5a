import Fastify, { type FastifyReply } from 'fastify';
import { checks, type Sink } from './relay-checks.js';

/**
 * The third limit line of the gateway benchmarks, `relay + checks, Fastify`: relay-checks.ts's checks, the same
 * code, behind the simplest Fastify app instead of Node's `http` — the HTTP library the gateway is built on (its
 * relay routes are plain Fastify routes; Nest serves only `/healthz` and `/metrics`). Between it and `relay +
 * checks` is what Fastify itself costs a request; between it and `gateway on` is what the gateway's own code
 * costs beyond the checks.
 *
 * As the gateway does: the bearer token is checked in an `onRequest` hook (before the body is read), the body is
 * read by a content-type parser as bytes, the answer is sent with `reply.send` (Fastify sets its length). As the
 * simplest app does: Fastify's defaults otherwise (no logger, its own body limit, no rewriting of the target).
 */
export async function startFastifyChecks(
  port: number,
  options: Parameters<typeof checks>[0],
): Promise<number> {
  const { authenticate, call } = await checks(options);
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  // The client, set on the request by the hook as the gateway sets its principal (declared, not decorated).
  type Checked = { who?: { subject: string } };
  app.addHook('onRequest', (request, reply, done) => {
    const who = authenticate(request.headers.authorization);
    if (!who) return void FASTIFY_SINK.json(reply, 401, '{"error":"unauthorized"}');
    (request as Checked).who = who;
    done();
  });
  app.post('/mcp/:upstream', (request, reply) => {
    call((request as Checked).who!, request.body as Buffer, request.headers.accept, reply, FASTIFY_SINK);
  });
  return new Promise((resolve, reject) =>
    app.listen({ port, host: '127.0.0.1' }, (error) =>
      error ? reject(error) : resolve((app.server.address() as { port: number }).port),
    ),
  );
}

const FASTIFY_SINK: Sink<FastifyReply> = {
  json(reply, status, text) {
    reply.code(status).header('content-type', 'application/json').send(text);
  },
  stream(reply, status, type, body) {
    reply.code(status).header('content-type', type).send(body);
  },
  fail(reply) {
    if (!reply.sent) reply.code(502).send();
  },
};
