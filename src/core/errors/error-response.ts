import { HttpException } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode, type ErrorEnvelope } from '../../../libs/contracts/src/index.js';
import { DomainError } from './domain-error.js';

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  /** Unexpected errors are logged with their stack server-side; the client sees only "internal error". */
  unexpected: boolean;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Fastify's own errors (raised before a route handler runs) that a client caused. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'request body is larger than the limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'UNSUPPORTED_MEDIA_TYPE',
    'unsupported content-type; send application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['VALIDATION_ERROR', 'content-length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['MALFORMED_JSON', 'body is empty but content-type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['MALFORMED_JSON', 'body is not valid JSON'],
  FST_ERR_BAD_URL: ['VALIDATION_ERROR', 'the request path is not a valid URL (bad percent-encoding)'],
  FST_ERR_MAX_PARAM_LENGTH: ['VALIDATION_ERROR', 'a path parameter is longer than 100 characters'],
};

/**
 * Maps any thrown value to the error envelope of SPEC §2. The only place that decides what a client sees.
 */
export function toErrorResponse(error: unknown, requestId: string): ErrorResponse {
  const envelope = (code: ErrorCode, message: string, details?: unknown): ErrorEnvelope => ({
    error: { code, message, request_id: requestId, ...(details === undefined ? {} : { details }) },
  });

  if (error instanceof DomainError) {
    return {
      status: error.status,
      body: envelope(error.code, error.message, error.details),
      unexpected: false,
    };
  }
  if (error instanceof HttpException && fastifyErrorCode(error.cause)) {
    // Nest wraps Fastify's own 4xx errors (body parsing, limits) in an HttpException; keep our wording.
    return toErrorResponse(error.cause, requestId);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR');
    const response = error.getResponse();
    if (status >= 500 && code !== 'SERVICE_UNAVAILABLE') {
      return { status: 500, body: envelope('INTERNAL_ERROR', 'internal error'), unexpected: true };
    }
    // Terminus puts its health report in the response; keep it as details.
    const details = typeof response === 'object' && code === 'SERVICE_UNAVAILABLE' ? response : undefined;
    const message = code === 'NOT_FOUND' ? 'route not found' : messageOf(response, error.message);
    return { status, body: envelope(code, message, details), unexpected: false };
  }
  const fastify = error as { code?: string; statusCode?: number; message?: string };
  const known = fastifyErrorCode(error);
  if (known) {
    const [code, message] = FASTIFY_CODES[known];
    return { status: ERROR_CODES[code], body: envelope(code, message), unexpected: false };
  }
  if (error instanceof SyntaxError && fastify.statusCode === 400) {
    return { status: 400, body: envelope('MALFORMED_JSON', 'body is not valid JSON'), unexpected: false };
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const code = CODE_BY_STATUS[fastify.statusCode] ?? 'VALIDATION_ERROR';
    return { status: fastify.statusCode, body: envelope(code, 'bad request'), unexpected: false };
  }
  return { status: 500, body: envelope('INTERNAL_ERROR', 'internal error'), unexpected: true };
}

function fastifyErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code in FASTIFY_CODES ? code : undefined;
}

function messageOf(response: string | object, fallback: string): string {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return typeof message === 'string' ? message : fallback;
}
