import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { Transactions } from '../../core/database/transactions.js';
import { AuditRepository } from './audit.repository.js';
import { AuditRetentionService } from './audit-retention.service.js';
import { AuditWitness } from './audit-witness.js';
import { AuditWriter } from './audit-writer.js';

const RETENTION_EVERY_MS = 3600_000;

/**
 * Background work of a running control plane (started by `agent-bom api`, not by the CLI or tests):
 * - checkpoints the head of every chain that has had unsigned entries for AGENT_BOM_AUDIT_CHECKPOINT_SECONDS,
 *   so a tenant that goes quiet is still covered (writes checkpoint on their own otherwise);
 * - applies retention hourly when AGENT_BOM_AUDIT_RETENTION_DAYS is set;
 * - delivers new signed checkpoints to the configured witness sinks (AGENT_BOM_AUDIT_WITNESS_FILE / _URL).
 * Safe with N replicas: a head another replica is signing is skipped (SKIP LOCKED), and a second prune of the
 * same tenant finds nothing left to cut.
 */
@Injectable()
export class AuditScheduler implements OnApplicationShutdown {
  private readonly logger = new Logger('AuditScheduler');
  private timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<string>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly writer: AuditWriter,
    private readonly retention: AuditRetentionService,
    private readonly transactions: Transactions,
    private readonly witness: AuditWitness,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  start(): void {
    if (this.timers.length) return;
    const sweepMs = Math.max(1000, (this.config.auditCheckpointSeconds * 1000) / 2);
    this.timers.push(
      setInterval(() => void this.guard('checkpoints', () => this.checkpointQuietChains()), sweepMs),
    );
    if (this.witness.enabled) {
      this.timers.push(setInterval(() => void this.guard('witness', () => this.witness.publish()), sweepMs));
    }
    const days = this.config.auditRetentionDays;
    if (days !== undefined) {
      this.timers.push(
        setInterval(
          () =>
            void this.guard('retention', () =>
              this.retention.prune({ olderThanSeconds: days * 86400, subject: 'system:retention' }),
            ),
          RETENTION_EVERY_MS,
        ),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Signs the head of each chain whose oldest unsigned entry is older than the checkpoint interval. */
  async checkpointQuietChains(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.config.auditCheckpointSeconds * 1000);
    let signed = 0;
    for (const tenantId of await this.repository.headsAwaitingCheckpoint(before, 100)) {
      signed += await this.transactions.run(async (tx) => {
        const head = await this.repository.lockUnsignedHead(tenantId, tx);
        if (!head) return 0;
        await this.writer.checkpointHead(tenantId, head, tx);
        return 1;
      });
    }
    return signed;
  }

  /** Runs one job at a time per kind: a slow run is never overlapped by the next tick. */
  private async guard(job: string, work: () => Promise<unknown>): Promise<void> {
    if (this.running.has(job)) return;
    this.running.add(job);
    try {
      await work();
    } catch (error) {
      this.logger.error(`audit ${job} failed: ${String(error)}`);
    } finally {
      this.running.delete(job);
    }
  }
}
