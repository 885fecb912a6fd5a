import { Inject, Injectable, Logger } from '@nestjs/common';
import type { VerifyReport } from '../../../libs/contracts/src/index.js';
import { systemPrincipal, type Principal } from '../../core/auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { Transactions } from '../../core/database/transactions.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { AuditVerifyService } from './audit-verify.service.js';
import { AuditWriter } from './audit-writer.js';

export interface PruneResult {
  tenant_id: string;
  /** Entries removed (0 when nothing was old enough). */
  pruned: number;
  /** The new anchor: entries up to here are gone, a signed anchor checkpoint vouches for their last hash. */
  anchor_seq: number | null;
  /** Set when the chain up to the cut does not verify: nothing was removed, the evidence is kept. */
  refused?: VerifyReport['first_broken'];
}

/**
 * Retention (AGENT_BOM_AUDIT_RETENTION_DAYS): removes a tenant's entries received before the cutoff without ever
 * breaking verification of what remains.
 *
 * The cut is always at a checkpoint signed before the cutoff (so every entry removed was received before it).
 * Before cutting, the chain up to the cut is verified; a chain that does not verify is never pruned, because
 * that would destroy the evidence. The cut itself (delete entries ≤ seq, re-sign that checkpoint as an
 * `anchor`, record `audit.pruned`) is one transaction under the tenant's head lock.
 */
@Injectable()
export class AuditRetentionService {
  private readonly logger = new Logger('AuditRetention');

  constructor(
    private readonly repository: AuditRepository,
    private readonly verifier: AuditVerifyService,
    private readonly writer: AuditWriter,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The configured retention in days, or undefined when entries are kept forever. */
  get retentionDays(): number | undefined {
    return this.config.auditRetentionDays;
  }

  /** Prunes every tenant's chain (or one), acting as `subject` (`system:retention`, `cli:<user>`). */
  async prune(options: {
    olderThanSeconds: number;
    subject: string;
    tenantId?: string;
    now?: Date;
  }): Promise<PruneResult[]> {
    const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanSeconds * 1000);
    const tenants = options.tenantId ? [options.tenantId] : await this.repository.tenantsWithChains();
    const results: PruneResult[] = [];
    for (const tenantId of tenants) {
      results.push(await this.pruneTenant(systemPrincipal(tenantId, options.subject), cutoff));
    }
    return results;
  }

  async pruneTenant(principal: Principal, cutoff: Date): Promise<PruneResult> {
    const tenantId = principal.tenantId;
    const nothing: PruneResult = { tenant_id: tenantId, pruned: 0, anchor_seq: null };
    const cut = await this.repository.latestCheckpointSignedBefore(tenantId, cutoff.toISOString());
    if (!cut) return nothing;
    const report = await this.verifier.verifyTenant(tenantId, { throughSeq: cut.seq });
    if (!report.ok) {
      this.logger.error(
        `refusing to prune tenant ${tenantId}: its chain does not verify up to seq ${cut.seq} ` +
          `(${report.first_broken?.reason} at seq ${report.first_broken?.seq})`,
      );
      return { ...nothing, refused: report.first_broken };
    }
    return this.transactions.run(async (tx) => {
      const head = await this.repository.lockHead(tenantId, tx);
      if (head.anchorSeq >= cut.seq) return nothing;
      const hash = await this.repository.entryHashAt(tenantId, cut.seq, tx);
      if (hash !== cut.hash) {
        return {
          ...nothing,
          refused: { seq: cut.seq, reason: 'checkpoint_mismatch', detail: 'changed during prune' },
        };
      }
      const pruned = await this.repository.pruneThrough(tenantId, cut.seq, tx);
      await this.repository.insertCheckpoint(
        tenantId,
        this.writer.sign(tenantId, cut.seq, cut.hash, 'anchor'),
        tx,
      );
      await this.audit.record(
        principal,
        {
          type: 'audit.pruned',
          details: { through_seq: cut.seq, entries_removed: pruned, cutoff: cutoff.toISOString() },
        },
        tx,
      );
      return { tenant_id: tenantId, pruned, anchor_seq: cut.seq } satisfies PruneResult;
    });
  }
}
