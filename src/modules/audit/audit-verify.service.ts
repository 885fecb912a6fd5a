import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import type { VerifyReport } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { AuditRepository } from './audit.repository.js';
import { AuditWitness, type WitnessReport } from './audit-witness.js';
import { ChainReader } from './chain-reader.js';

export interface TenantVerifyReport extends VerifyReport {
  /** The head row as stored, for comparison with what an external copy last saw. */
  head: { seq: number; hash: string } | null;
  /** Present when a witness file is configured: the chain compared with the latest witnessed checkpoint. */
  witness?: WitnessReport;
}

/**
 * Verifies a tenant's whole chain against its head row and its signed checkpoints, streaming in pages.
 *
 * What it proves: every stored entry is intact and linked; nothing is missing between seq 1 (or the signed
 * retention anchor) and the head; every checkpoint is signed by a key we know and matches its entry. So
 * deleting the newest rows, or all of a tenant's rows, is caught by any checkpoint (or the head row) that
 * covers them. What it cannot prove: that entries after the last checkpoint were not rewritten by someone
 * who could also rewrite the head row; that window is at most AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES entries or
 * AGENT_BOM_AUDIT_CHECKPOINT_SECONDS seconds.
 */
@Injectable()
export class AuditVerifyService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly reader: ChainReader,
    private readonly witness: AuditWitness,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The tenant's chain, and when a witness file is configured, the chain against it: a chain cut back below
   * the latest witnessed checkpoint fails with `behind_witness`, which the chain alone cannot show.
   */
  async verify(principal: Principal): Promise<TenantVerifyReport> {
    const report = await this.verifyTenant(principal.tenantId);
    if (!this.witness.enabled || !this.config.auditWitnessFile) return report;
    const { report: witness, broken } = await this.witness.check(principal.tenantId);
    return {
      ...report,
      ok: report.ok && witness.ok,
      first_broken: report.first_broken ?? broken ?? null,
      witness,
    };
  }

  /**
   * `throughSeq`: verify only up to that entry (retention checks what it is about to remove), which must exist
   * and be covered by a checkpoint at it or before.
   */
  async verifyTenant(tenantId: string, options: { throughSeq?: number } = {}): Promise<TenantVerifyReport> {
    const bounds = await this.repository.bounds(tenantId);
    const headSeq = Math.max(bounds.head?.seq ?? 0, bounds.maxEntrySeq ?? 0);
    const entriesTo = options.throughSeq ?? headSeq;
    const checkpointsTo = options.throughSeq ?? Math.max(bounds.maxCheckpointSeq ?? 0, entriesTo);
    const verifier = this.reader.verifier(tenantId, 'strict');
    for await (const item of this.reader.items(tenantId, {
      entriesFrom: 1,
      entriesTo,
      checkpointsFrom: 1,
      checkpointsTo,
    })) {
      const ok =
        item.kind === 'entry' ? verifier.addEntry(item.entry) : verifier.addCheckpoint(item.checkpoint);
      if (!ok) break;
    }
    const head = bounds.head && { seq: bounds.head.seq, hash: bounds.head.hash };
    const report = verifier.finish({
      head: options.throughSeq !== undefined ? { seq: options.throughSeq } : (head ?? undefined),
    });
    return { ...report, head };
  }
}
