import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { UPSTREAM_NAME_MAX } from '../libs/contracts/src/index.js';
import { AppModule } from './app.module.js';
import { AuthGuard } from './core/auth/auth.guard.js';
import type { AppConfig } from './core/config/config.js';
import { AllExceptionsFilter } from './core/errors/all-exceptions.filter.js';
import { toErrorResponse } from './core/errors/error-response.js';
import { serveConsole } from './core/http/console.js';
import { installFormParserFor, installJsonBodyParser } from './core/http/json-body.js';
import { requestIdOf } from './core/http/request-id.js';
import { listRoutes, UNPREFIXED_ROUTES } from './core/http/routes.js';
import { installAuthentication } from './core/auth/authenticate-hook.js';
import { createValidationPipe } from './core/http/validation.js';
import { PinoNestLogger } from './core/logging/logger.js';
import { SAML_ACS_PATH } from './modules/sso/saml/saml-login.controller.js';
import { Metrics } from './core/metrics/metrics.js';

export const API_VERSION = '0.1.0';

export { UNPREFIXED_ROUTES } from './core/http/routes.js';

/**
 * Builds the control-plane HTTP app on an open data source, initialised but not listening.
 * Used by `agent-bom api` and by every integration test, so tests exercise exactly what ships.
 */
export async function createApp(
  config: AppConfig,
  dataSource: DataSource,
  logger: Logger,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.maxBodyBytes,
    genReqId: requestIdOf,
    // `/v1/gateway/upstreams/<name>/approval` takes every routable name (Fastify's default stops at 100).
    routerOptions: { maxParamLength: UPSTREAM_NAME_MAX },
    trustProxy: false,
    return503OnClosing: true,
    // Errors of the router itself (undecodable path, over-long parameter) leave in the same envelope.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error, String(request.id));
      void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, dataSource),
    adapter,
    {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
    },
  );
  app.setGlobalPrefix('v1', { exclude: UNPREFIXED_ROUTES.flatMap((route) => [route, `${route}/{*rest}`]) });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());

  const fastify = app.getHttpAdapter().getInstance();
  installJsonBodyParser(fastify);
  installFormParserFor(fastify, SAML_ACS_PATH);
  installAuthentication(fastify, app.get(AuthGuard), listRoutes(app));
  const metrics = app.get(Metrics);
  // Callback-style hooks: an async hook costs a promise and a microtask on every request, /healthz included.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    // API answers are not to be stored, unless a route chose its own policy (the bundle's no-cache + ETag).
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  if (config.docsEnabled) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('agent-bom control plane')
        .setDescription(
          'Fleet inventory, discovery, policy, audit and identity for MCP. All routes under /v1.',
        )
        .setVersion(API_VERSION)
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key (abom_…) or OIDC JWT' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  }

  await app.init();
  await serveConsole(fastify, config.consoleDir, logger);
  await fastify.ready();
  return app;
}
