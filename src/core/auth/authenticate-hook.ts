import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from '../errors/error-response.js';
import type { RouteInfo } from '../http/routes.js';
import type { AuthGuard } from './auth.guard.js';

/**
 * Authenticates in Fastify's `onRequest`, before the body is read: an anonymous or wrongly credentialed request
 * to a protected route is a 401 whatever its body (malformed, empty, huge), and costs no parsing. The principal
 * is attached to the request; the guard then checks only the route's permission.
 * It covers every Nest route that is not `@Public()`; public routes, the API docs (served by Fastify, not Nest)
 * and paths no route matches (404) pass untouched. The guard still runs on every Nest route, so a route this
 * hook missed would still be authenticated, only later.
 */
export function installAuthentication(fastify: FastifyInstance, guard: AuthGuard, routes: RouteInfo[]): void {
  const guarded = new Set(routes.filter((r) => !r.isPublic).map((r) => `${r.method} ${r.path}`));
  const refuse = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const { status, body } = toErrorResponse(error, String(request.id));
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="agent-bom"');
    // The body is never read: close the connection rather than drain what the client is still sending.
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding']) {
      void reply.header('connection', 'close');
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  };
  // Callback-style: a key verified before and still fresh is admitted synchronously (no promise, no microtask);
  // anything else goes through the guard's full `authenticate`. A refusal answers and never calls `done`.
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined) return done();
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (!guarded.has(`${method} ${route}`)) return done();
    const target = request as FastifyRequest & Parameters<AuthGuard['authenticate']>[0];
    let admitted: unknown;
    try {
      admitted = guard.authenticateCached(target);
    } catch (error) {
      return refuse(request, reply, error);
    }
    if (admitted) return done();
    guard.authenticate(target).then(
      () => done(),
      (error: unknown) => refuse(request, reply, error),
    );
  });
}
