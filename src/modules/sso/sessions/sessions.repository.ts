import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../../core/database/transactions.js';
import { ApiKeyEntity } from '../../auth/entities/api-key.entity.js';
import { SessionEntity } from '../entities/session.entity.js';

export interface SessionPage {
  limit: number;
  after?: { createdAt: Date; id: string };
}

/**
 * SQL for browser sessions. The lookup by token hash is the one unscoped read (the tenant is what it finds);
 * every other method takes the tenant.
 */
@Injectable()
export class SessionsRepository {
  private readonly sessions: Repository<SessionEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.sessions = dataSource.getRepository(SessionEntity);
  }

  async insert(tenantId: string, row: Omit<SessionEntity, 'tenantId'>, tx?: Tx): Promise<SessionEntity> {
    const entity = this.sessions.create({ ...row, tenantId });
    await managerOf(this.dataSource, tx).getRepository(SessionEntity).insert(entity);
    return entity;
  }

  /**
   * The live session for a token hash at `now`: not revoked, inside both timeouts, and — when it was opened with
   * an API key — that key still usable (not revoked, not expired, not past its rotation overlap).
   */
  findLive(tokenHash: string, now: Date): Promise<SessionEntity | null> {
    return this.sessions
      .createQueryBuilder('s')
      .leftJoin(ApiKeyEntity, 'k', 'k.id = s.key_id AND k.tenant_id = s.tenant_id')
      .where('s.token_hash = :tokenHash AND s.revoked_at IS NULL', { tokenHash })
      .andWhere('s.expires_at > :now AND s.idle_expires_at > :now', { now })
      .andWhere(
        `(s.key_id IS NULL OR (k.id IS NOT NULL AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > :now)
          AND (k.replaced_by IS NULL OR k.overlap_until > :now)))`,
      )
      .getOne();
  }

  /** Slides the idle deadline (never past the absolute one). */
  async touch(tenantId: string, id: string, now: Date, idleSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE auth_sessions
          SET last_seen_at = $3,
              idle_expires_at = LEAST(expires_at, $3::timestamptz + make_interval(secs => $4))
        WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
      [tenantId, id, now, idleSeconds],
    );
  }

  findById(tenantId: string, id: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ tenantId, id });
  }

  /** The tenant's sessions that are still live, newest first. */
  listLive(tenantId: string, now: Date, page: SessionPage): Promise<SessionEntity[]> {
    const query = this.sessions
      .createQueryBuilder('s')
      .where('s.tenant_id = :tenantId', { tenantId })
      .andWhere('s.revoked_at IS NULL AND s.expires_at > :now AND s.idle_expires_at > :now', { now })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(page.limit);
    if (page.after) query.andWhere('(s.created_at, s.id) < (:createdAt, :id)', page.after);
    return query.getMany();
  }

  /** Revokes one session; true when this call revoked it. */
  async revoke(tenantId: string, id: string, at: Date, by: string, tx?: Tx): Promise<boolean> {
    const result = await managerOf(this.dataSource, tx)
      .getRepository(SessionEntity)
      .update({ tenantId, id, revokedAt: IsNull() }, { revokedAt: at, revokedBy: by });
    return (result.affected ?? 0) > 0;
  }

  /** Revokes every live session of a SCIM user; returns how many. */
  async revokeForUser(tenantId: string, userId: string, at: Date, by: string, tx?: Tx): Promise<number> {
    const result = await managerOf(this.dataSource, tx)
      .getRepository(SessionEntity)
      .update({ tenantId, userId, revokedAt: IsNull() }, { revokedAt: at, revokedBy: by });
    return result.affected ?? 0;
  }

  /** Deletes the tenant's sessions that ended more than a day ago (housekeeping on each login). */
  async pruneEnded(tenantId: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM auth_sessions WHERE tenant_id = $1
          AND (expires_at < $2::timestamptz - interval '1 day'
               OR idle_expires_at < $2::timestamptz - interval '1 day'
               OR revoked_at < $2::timestamptz - interval '1 day')`,
      [tenantId, now],
    );
  }
}
