import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths that may carry a credential. Redaction is belt and braces: code never logs a raw key or a
 * password on purpose, and the request serializer logs no headers at all.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.authorization',
  'raw_key',
  '*.raw_key',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

const KEY_SHAPED = /abom_[A-Za-z0-9_-]{8,}/g;

/**
 * What a request log line says about the request: method, path and peer. Never headers, never the query
 * string (clients put tokens there by mistake), and any API-key-shaped token in the path is masked.
 */
export function serializeRequest(request: { method?: string; url?: string; ip?: string }) {
  const path = (request.url ?? '').split('?')[0].replace(KEY_SHAPED, 'abom_[redacted]');
  return { method: request.method, path, remoteAddress: request.ip };
}

/** Structured JSON logs (one object a line) with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'agent-bom-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { req: serializeRequest, err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** Routes Nest's own log calls into pino; Nest's chatty bootstrap lines go to debug. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
