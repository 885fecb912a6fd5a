import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response.js';

/**
 * Every exception thrown in a handler, guard, pipe or by Fastify's body parsing (Nest routes those here too)
 * leaves as the error envelope. Unexpected errors are logged with their stack, and the client sees only a code.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body, unexpected } = toErrorResponse(exception, String(request.id));
    if (unexpected) request.log.error({ err: exception }, 'unhandled error');
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="agent-bom"');
    if (reply.sent) return;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
