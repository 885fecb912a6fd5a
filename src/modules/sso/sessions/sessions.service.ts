import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { HumanRole, Role, SessionVia, SessionView } from '../../../../libs/contracts/src/index.js';
import type { Principal } from '../../../core/auth/principal.js';
import { secretHash } from '../../../core/auth/secret-hash.js';
import { csrfTokenOf } from '../../../core/auth/session-cookie.js';
import { APP_CONFIG, type AppConfig } from '../../../core/config/config.js';
import { Transactions, type Tx } from '../../../core/database/transactions.js';
import { notFound } from '../../../core/errors/domain-error.js';
import { timeIdCursor } from '../../../core/http/cursor.js';
import { AuditService } from '../../audit/audit.service.js';
import type { SessionEntity } from '../entities/session.entity.js';
import { SessionsRepository } from './sessions.repository.js';

/** Who a new session is for; decided by the login that opens it. */
export interface SessionGrant {
  tenantId: string;
  role: HumanRole | 'platform-admin';
  subject: string;
  via: SessionVia;
  keyId: string | null;
  userId: string | null;
}

export interface OpenedSession {
  /** The cookie value; returned once, stored only as a hash. */
  secret: string;
  csrfToken: string;
  principal: Principal;
}

/** How often the idle deadline is pushed forward at most (per session): bounds writes on a busy console. */
const TOUCH_EVERY_MS = 30_000;

/**
 * Server-side browser sessions. Guarantees:
 * - a session is live only while not revoked, inside its idle and absolute timeouts, and (if opened with an API
 *   key) while that key is usable; every request re-reads it, so a revocation applies at once on every replica;
 * - the cookie secret is never stored or logged; the CSRF token is derived from it;
 * - opening, ending and revoking a session are audited in the session's tenant.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Opens a session for `grant`; `actor` is the credential that proved it (audited as the actor). */
  async open(
    grant: SessionGrant,
    actor: Principal,
    userAgent: string | undefined,
    tx?: Tx,
  ): Promise<OpenedSession> {
    const now = new Date();
    const { idleTimeoutSeconds, absoluteTimeoutSeconds } = this.config.sso.session;
    const expiresAt = new Date(now.getTime() + absoluteTimeoutSeconds * 1000);
    const idleExpiresAt = new Date(Math.min(expiresAt.getTime(), now.getTime() + idleTimeoutSeconds * 1000));
    const secret = randomBytes(32).toString('base64url');
    const row = await this.transactions.run(async (t) => {
      const inserted = await this.sessions.insert(
        grant.tenantId,
        {
          id: randomUUID(),
          tokenHash: secretHash(secret),
          role: grant.role,
          subject: grant.subject,
          via: grant.via,
          keyId: grant.keyId,
          userId: grant.userId,
          createdAt: now,
          lastSeenAt: now,
          idleExpiresAt,
          expiresAt,
          revokedAt: null,
          revokedBy: null,
          userAgent: userAgent ? userAgent.slice(0, 512) : null,
        },
        t,
      );
      await this.audit.record(
        actor,
        {
          type: 'session.created',
          resource_type: 'session',
          resource_id: inserted.id,
          details: { via: grant.via, subject: grant.subject, role: grant.role },
        },
        t,
      );
      return inserted;
    }, tx);
    this.sessions.pruneEnded(grant.tenantId, now).catch((error: unknown) => {
      this.logger.warn(`could not prune ended sessions: ${String(error)}`);
    });
    return { secret, csrfToken: csrfTokenOf(secret), principal: principalOf(row, secret) };
  }

  /** The principal of a live session, or undefined. */
  async resolve(secret: string): Promise<Principal | undefined> {
    const now = new Date();
    const row = await this.sessions.findLive(secretHash(secret), now);
    if (!row) return undefined;
    if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      const idle = this.config.sso.session.idleTimeoutSeconds;
      this.sessions.touch(row.tenantId, row.id, now, idle).catch((error: unknown) => {
        this.logger.warn(`could not extend session ${row.id}: ${String(error)}`);
      });
      row.idleExpiresAt = new Date(Math.min(row.expiresAt.getTime(), now.getTime() + idle * 1000));
    }
    return principalOf(row, secret);
  }

  /** Logout: ends the caller's own session. */
  async end(principal: Principal): Promise<void> {
    const session = principal.session;
    if (!session) return;
    await this.transactions.run(async (tx) => {
      const changed = await this.sessions.revoke(principal.tenantId, session.id, new Date(), 'logout', tx);
      if (changed) {
        await this.audit.record(
          principal,
          {
            type: 'session.ended',
            resource_type: 'session',
            resource_id: session.id,
            details: { via: session.via },
          },
          tx,
        );
      }
    });
  }

  async list(
    principal: Principal,
    query: { limit?: number; cursor?: string },
  ): Promise<{ items: SessionView[]; next_cursor: string | null }> {
    const limit = query.limit ?? 50;
    const position = query.cursor ? timeIdCursor.decode(query.cursor) : undefined;
    const after = position && { createdAt: position.at, id: position.id };
    const rows = await this.sessions.listLive(principal.tenantId, new Date(), { limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toSessionView),
      next_cursor: rows.length > limit && last ? timeIdCursor.encode(last.createdAt, last.id) : null,
    };
  }

  /** An admin revokes a session of their tenant; another tenant's id is a 404. Idempotent. */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const existing = await this.sessions.findById(principal.tenantId, id);
      if (!existing) throw notFound('session');
      const changed = await this.sessions.revoke(principal.tenantId, id, new Date(), principal.subject, tx);
      if (changed) {
        await this.audit.record(
          principal,
          {
            type: 'session.revoked',
            resource_type: 'session',
            resource_id: id,
            details: { subject: existing.subject, via: existing.via },
          },
          tx,
        );
      }
    });
  }

  /** SCIM: a deactivated or deleted user loses every session at once. Returns how many ended. */
  revokeForUser(tenantId: string, userId: string, by: string, tx?: Tx): Promise<number> {
    return this.sessions.revokeForUser(tenantId, userId, new Date(), by, tx);
  }
}

function principalOf(row: SessionEntity, secret: string): Principal {
  return {
    tenantId: row.tenantId,
    role: row.role satisfies Role,
    subject: row.subject,
    authMethod: 'session',
    keyId: row.keyId,
    session: {
      id: row.id,
      expiresAt: row.expiresAt,
      idleExpiresAt: row.idleExpiresAt,
      via: row.via,
      csrfToken: csrfTokenOf(secret),
    },
  };
}

export function toSessionView(row: SessionEntity): SessionView {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    subject: row.subject,
    role: row.role,
    via: row.via,
    key_id: row.keyId,
    created_at: row.createdAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    idle_expires_at: row.idleExpiresAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    user_agent: row.userAgent,
  };
}
