import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino, type Logger } from 'pino';
import { createGatewayApp } from './app.js';
import { parseGatewayConfig, type GatewayCliOptions } from './config/config.js';
import { GatewayRuntime } from './runtime.js';

/** A running gateway: for tests and for `agent-bom gateway serve`. */
export interface RunningGateway {
  url: string;
  runtime: GatewayRuntime;
  app: NestFastifyApplication;
  close(): Promise<void>;
}

/** Structured JSON logs on stdout; credentials never reach a log line (no headers are logged). */
export function createGatewayLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'agent-bom-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        '*.token',
        'token',
        '*.arguments',
        '*.params',
      ],
      censor: '[redacted]',
    },
  });
}

/**
 * Starts the gateway: configuration (exit 2 on a bad value), runtime boot (discovery prints
 * `discovered N upstream(s) from URL: a, b`), HTTP app, listen, then the seed's second line
 * `agent-bom gateway serving on http://HOST:PORT fronting N upstream(s): a, b`.
 */
export async function startGateway(
  options: GatewayCliOptions,
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RunningGateway> {
  const config = parseGatewayConfig(options, env);
  const logger = createGatewayLogger(config.logLevel);
  const runtime = new GatewayRuntime(config, env, logger, print);
  let app: NestFastifyApplication | undefined;
  try {
    await runtime.start();
    app = await createGatewayApp(runtime);
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw error;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const names = runtime.frontedNames();
  print(
    `agent-bom gateway serving on ${url} fronting ${names.length} upstream(s): ${names.join(', ') || '(none)'}`,
  );
  const notFronted = runtime.notFrontedLine();
  if (notFronted) print(notFronted);
  logger.info({ url, upstreams: names.length }, 'gateway listening');
  const started = app;
  return {
    url,
    runtime,
    app: started,
    close: async () => {
      await started.close();
      await runtime.close();
    },
  };
}

/** `agent-bom gateway serve`: runs until SIGINT/SIGTERM, then drains (HTTP first, then audit). */
export async function runGateway(options: GatewayCliOptions): Promise<void> {
  const gateway = await startGateway(options);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void gateway
      .close()
      .then(() => (process.exitCode = 0))
      .catch(() => (process.exitCode = 1))
      .finally(() => {
        clearTimeout(force);
        process.exit();
      });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
