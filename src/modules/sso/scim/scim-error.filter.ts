import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from '../../../core/errors/error-response.js';
import { SCIM_ERROR } from './scim.mapper.js';

const SCIM_TYPE: Record<string, string> = { CONFLICT: 'uniqueness', VALIDATION_ERROR: 'invalidValue' };

/** SCIM clients (Okta, Entra ID) read errors in the RFC 7644 §3.12 shape; same statuses as the rest of the API. */
@Catch()
export class ScimErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body, unexpected } = toErrorResponse(exception, String(request.id));
    if (unexpected) request.log.error({ err: exception }, 'unhandled error');
    if (reply.sent) return;
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="agent-bom"');
    const code = (body as { error: { code: string; message: string } }).error;
    void reply
      .status(status)
      .header('content-type', 'application/scim+json; charset=utf-8')
      .send({
        schemas: [SCIM_ERROR],
        status: String(status),
        ...(SCIM_TYPE[code.code]
          ? { scimType: code.message.startsWith('filter') ? 'invalidFilter' : SCIM_TYPE[code.code] }
          : {}),
        detail: code.message,
      });
  }
}
