import { Injectable, Logger } from '@nestjs/common';
import type { AuditDetailValue } from '../../../libs/contracts/src/index.js';
import { WindowCap } from '../../../libs/runtime/src/audit/window-cap.js';
import type { AuthMethod, Principal } from '../../core/auth/principal.js';
import { AuditService } from '../audit/audit.service.js';

/** At most this many refusals per tenant per minute per replica reach the ledger; the rest are only logged. */
const REFUSALS_PER_MINUTE = 60;

/**
 * Records login refusals in the ledger of the tenant they were aimed at. Refusals come from unauthenticated
 * callers, so they are rate limited per tenant (an attacker cannot flood a tenant's ledger) and never carry the
 * credential — only the reason and non-secret context (issuer, subject claim).
 */
@Injectable()
export class LoginAudit {
  private readonly logger = new Logger('LoginAudit');
  /** Refusals over the cap are only logged (no summary event): the log line above says each one. */
  private readonly cap = new WindowCap({ perWindow: REFUSALS_PER_MINUTE });

  constructor(private readonly audit: AuditService) {}

  async refused(
    tenantId: string | undefined,
    method: AuthMethod | 'saml',
    reason: string,
    context: Record<string, AuditDetailValue> = {},
  ): Promise<void> {
    const error = typeof context.error === 'string' ? `: ${context.error}` : '';
    this.logger.warn(`login refused: ${method} ${reason}${tenantId ? ` (tenant ${tenantId})` : ''}${error}`);
    if (!tenantId || !this.cap.admit(tenantId).admitted) return;
    const actor: Principal = {
      tenantId,
      role: 'viewer',
      subject: 'unauthenticated',
      authMethod: method === 'saml' ? 'session' : method,
      keyId: null,
    };
    try {
      await this.audit.record(actor, {
        type: 'auth.refused',
        resource_type: 'login',
        details: { method, reason, ...context },
      });
    } catch (error) {
      this.logger.warn(`could not audit a refused login: ${String(error)}`);
    }
  }
}
