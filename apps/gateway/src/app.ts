import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError } from 'fastify';
import { GatewayModule } from './gateway.module.js';
import { installBodyReader } from './http/body.js';
import { errorResponse, GATEWAY_ERRORS } from './relay/jsonrpc.js';
import { sendError } from './relay/relay-context.js';
import { registerSseRoutes } from './relay/sse-routes.js';
import { registerStreamableRoutes } from './relay/streamable-routes.js';
import type { GatewayRuntime } from './runtime.js';

const RELAY_PATH = /^\/(mcp|sse)\//;

/** Builds the gateway's HTTP app on a started runtime, initialised but not listening. */
export async function createGatewayApp(runtime: GatewayRuntime): Promise<NestFastifyApplication> {
  const { config, logger, metrics } = runtime;
  const adapter = new FastifyAdapter({
    loggerInstance: logger.child(
      { component: 'http' },
      { level: logger.level === 'debug' || logger.level === 'trace' ? logger.level : 'warn' },
    ),
    bodyLimit: config.maxBodyBytes,
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestTimeout: 0, // streams are long-lived; bodies have their own deadline (installBodyReader)
    keepAliveTimeout: 65_000,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(runtime), adapter, {
    logger: false,
    bodyParser: false,
  });
  const root = app.getHttpAdapter().getInstance();
  const deps = runtime.relayDeps();
  // The relay lives in its own encapsulated scope: its body reader, auth hook and error handler apply to the
  // relay routes only, and do not replace Nest's handler for /healthz and /metrics.
  await root.register(async (fastify) => {
    installBodyReader(fastify, config.maxBodyBytes, config.bodyTimeoutMs);

    // Authentication runs before the body is read: an unauthenticated client never gets to send a large body.
    fastify.addHook('onRequest', async (request, reply) => {
      if (!RELAY_PATH.test(request.url)) return;
      const outcome = await runtime.authenticator.authenticate(request.headers);
      if (outcome.ok) {
        request.principal = outcome.principal;
        return;
      }
      metrics.auth.inc({ status: String(outcome.status) });
      return sendError(
        reply,
        outcome.status,
        errorResponse(null, GATEWAY_ERRORS.UNAUTHORIZED, outcome.reason),
        {
          'www-authenticate': outcome.challenge,
        },
      );
    });
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
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
          ? GATEWAY_ERRORS.BODY_REFUSED
          : status >= 500
            ? -32603
            : GATEWAY_ERRORS.INVALID_REQUEST;
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
