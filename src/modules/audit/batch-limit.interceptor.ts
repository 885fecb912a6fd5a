import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { AUDIT_LIMITS } from '../../../libs/contracts/src/index.js';
import { invalid } from '../../core/errors/domain-error.js';

/**
 * Refuses an oversized batch before validation walks it. The validation pipe builds an error object for every
 * bad element, so a 4 MiB body of ~1.3 million `{}` events once took the process down (out of memory); the
 * count is checked here first, after authentication and before any pipe.
 */
@Injectable()
export class BatchLimitInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const body = context.switchToHttp().getRequest<{ body?: unknown }>().body;
    const events = (body as { events?: unknown } | null | undefined)?.events;
    if (Array.isArray(events) && events.length > AUDIT_LIMITS.eventsPerBatch) {
      throw invalid(
        'events',
        `must contain at most ${AUDIT_LIMITS.eventsPerBatch} events (got ${events.length})`,
      );
    }
    return next.handle();
  }
}
