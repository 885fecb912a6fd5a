import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthOutcome } from './auth/principal.js';
import { UPSTREAM_NAME_MAX } from '../../../libs/contracts/src/index.js';
import { GatewayModule } from './gateway.module.js';
import { installBodyReader } from './http/body.js';
import { registerProtectedResourceMetadata } from './http/protected-resource.js';
import { foreignRequest, normalizeRequestTarget, originPolicy } from './http/request-guard.js';
import { errorResponse, ERROR_CODES } from '../../../libs/runtime/src/index.js';
import { sendError } from './relay/relay-context.js';
import { registerSseRoutes } from './relay/sse-routes.js';
import { registerStreamableRoutes } from './relay/streamable-routes.js';
import type { GatewayRuntime } from './runtime.js';

/** Builds the gateway's HTTP app on a started runtime, initialised but not listening. */
export async function createGatewayApp(runtime: GatewayRuntime): Promise<NestFastifyApplication> {
  const { config, logger, metrics } = runtime;
  const verbose = logger.level === 'debug' || logger.level === 'trace';
  const adapter = new FastifyAdapter({
    loggerInstance: logger.child(
      { component: 'http' },
      // Fastify reports a client that hangs up mid-stream as a warning with a stack trace: a normal event for
      // a relay, so only errors are logged unless the operator asks for debug.
      { level: verbose ? logger.level : 'error' },
    ),
    // Fastify's per-request lines ("incoming request", "request completed") are info: below the level above
    // unless debugging, so outside debug a request needs no child logger with its request id (pino builds one
    // per request, bindings and redaction: ~1.5% of the gateway's CPU under load); it shares the http logger.
    ...(verbose ? {} : { childLoggerFactory: (parent: FastifyBaseLogger) => parent }),
    bodyLimit: config.maxBodyBytes,
    // `/mcp/<upstream>` carries every routable name (Fastify's default stops parameters at 100 characters).
    routerOptions: { maxParamLength: UPSTREAM_NAME_MAX },
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestTimeout: 0, // streams are long-lived; bodies have their own deadline (installBodyReader)
    keepAliveTimeout: config.idleTimeoutMs,
    // A connection that does not finish its headers in time is closed (silent or slowloris sockets); checked
    // every quarter of that time, not Node's default 30 s.
    http: {
      headersTimeout: config.headerTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headerTimeoutMs / 4))),
    },
    // Routing and every check see one normalised path: `/%6Dcp/x` and `POST http://host/mcp/x` are `/mcp/x`.
    rewriteUrl: (request: { url?: string }) => normalizeRequestTarget(request.url),
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(runtime), adapter, {
    logger: false,
    bodyParser: false,
  });
  const root = app.getHttpAdapter().getInstance();
  const deps = runtime.relayDeps();
  const origins = originPolicy(config.host, config.allowedOrigins);
  // Every route, /healthz and /metrics included: browsers' foreign origins and (on loopback) foreign Host names
  // are refused before anything else runs.
  // Callback-style hooks (here and below): an async hook costs a promise and a microtask on every request.
  root.addHook('onRequest', (request, reply, done) => {
    const foreign = foreignRequest(request.headers, origins);
    if (!foreign) return done();
    metrics.auth.inc({ status: '403' });
    sendError(reply, 403, errorResponse(null, ERROR_CODES.unauthorized, foreign));
  });
  registerProtectedResourceMetadata(root, runtime); // public by design: read before a client has a token
  // The relay lives in its own encapsulated scope: its body reader, auth hook and error handler apply to the
  // relay routes only, and do not replace Nest's handler for /healthz and /metrics.
  await root.register(async (fastify) => {
    installBodyReader(fastify, config.maxBodyBytes, config.bodyTimeoutMs);

    // Authentication runs before the body is read: an unauthenticated client never gets to send a large body.
    // The hook belongs to this scope, so it runs for every route registered here, present and future
    // (deny by default): no path pattern decides whether a route is protected.
    const authenticated = (
      request: FastifyRequest,
      reply: FastifyReply,
      outcome: AuthOutcome,
      done: (error?: Error) => void,
    ) => {
      if (outcome.ok) {
        request.principal = outcome.principal;
        return done();
      }
      metrics.auth.inc({ status: String(outcome.status) });
      sendError(reply, outcome.status, errorResponse(null, ERROR_CODES.unauthorized, outcome.reason), {
        'www-authenticate': outcome.challenge,
      });
    };
    fastify.addHook('onRequest', (request, reply, done) => {
      // On `/mcp/<upstream>`, a 401 names that upstream's metadata (its tenants' IdPs only).
      const upstream =
        request.routeOptions.url === '/mcp/:upstream'
          ? (request.params as { upstream?: string } | undefined)?.upstream
          : undefined;
      const outcome = runtime.authenticator.authenticate(request.headers, upstream);
      if (!(outcome instanceof Promise)) return authenticated(request, reply, outcome, done);
      outcome.then((answer) => authenticated(request, reply, answer, done), done);
    });
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      if (reply.raw.destroyed) {
        // The client hung up before its answer was relayed (the relay then fails on the stream it was sending):
        // an ordinary event for a relay, and there is no one left to answer.
        logger.debug(
          {
            upstream: (request.params as { upstream?: string } | undefined)?.upstream,
            reason: error.message,
          },
          'client went away before its answer',
        );
        return reply;
      }
      const status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      const principal = request.principal;
      const name = (request.params as { upstream?: string } | undefined)?.upstream;
      if (principal && status < 500) {
        const known = name ? runtime.registry.get(principal.tenant, name) : undefined;
        runtime.audit(principal.tenant, {
          type: 'request.refused',
          agent: principal.subject,
          server: known?.name,
          reason:
            status === 413
              ? 'request body too large'
              : status === 408
                ? 'request body too slow'
                : status === 415
                  ? 'not a JSON body'
                  : `HTTP ${status}`,
        });
      }
      if (status >= 500) logger.error({ err: error }, 'gateway error');
      const code =
        status === 413 || status === 408
          ? ERROR_CODES.frame_too_large
          : status >= 500
            ? -32603
            : ERROR_CODES.invalid_request;
      const message =
        status >= 500
          ? 'internal gateway error'
          : status === 415
            ? 'Content-Type must be application/json'
            : error.message;
      return sendError(
        reply,
        status,
        errorResponse(null, code, message),
        status === 408 ? { connection: 'close' } : {},
      );
    });
    registerStreamableRoutes(fastify, deps, runtime.statefulSessions);
    registerSseRoutes(fastify, deps, runtime.statefulSessions);
  });
  await app.init();
  await root.ready();
  return app;
}
