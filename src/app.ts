import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import type { AppConfig } from './core/config/config.js';
import { AllExceptionsFilter } from './core/errors/all-exceptions.filter.js';
import { serveConsole } from './core/http/console.js';
import { installFormParserFor, installJsonBodyParser } from './core/http/json-body.js';
import { requestIdOf } from './core/http/request-id.js';
import { createValidationPipe } from './core/http/validation.js';
import { PinoNestLogger } from './core/logging/logger.js';
import { SAML_ACS_PATH } from './modules/sso/saml/saml-login.controller.js';
import { Metrics } from './core/metrics/metrics.js';

export const API_VERSION = '0.1.0';

/** Routes served outside `/v1` (first path segments): probes, the Prometheus scrape and SCIM (`/scim/v2/…`). */
export const UNPREFIXED_ROUTES = ['healthz', 'readyz', 'metrics', 'scim'];

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
    trustProxy: false,
    return503OnClosing: true,
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
  const metrics = app.get(Metrics);
  fastify.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    // API answers are not to be stored, unless a route chose its own policy (the bundle's no-cache + ETag).
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
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
