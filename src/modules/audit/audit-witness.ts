import fs from 'node:fs';
import readline from 'node:readline';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SignedCheckpoint, VerifyReport } from '../../../libs/contracts/src/index.js';
import { APP_CONFIG, type AppConfig } from '../../core/config/config.js';
import { SigningKeys } from '../../core/signing/signing-keys.js';
import { AuditWitnessRepository } from './audit-witness.repository.js';
import { compareWithWitness, latestWitnessed, type Witnessed } from './witness-check.js';

interface Sink {
  id: string;
  deliver(checkpoints: SignedCheckpoint[]): Promise<void>;
}

export interface WitnessReport {
  /** The witness file compared with (the HTTP sink is compared by its owner; see docs/audit.md). */
  sink: 'file';
  /** Highest seq of a validly signed checkpoint of this tenant in the witness; null when it has none yet. */
  witnessed_seq: number | null;
  ok: boolean;
  /** Lines of this tenant whose signature did not verify (a forged or damaged witness line); never trusted. */
  invalid_lines: number;
}

const PAGE = 500;
const HTTP_TIMEOUT_MS = 10_000;

/**
 * The audit chain's external witness. A chain cannot prove its own length: someone with database owner rights
 * can cut it back to an earlier checkpoint and move the head back, and every check inside the database still
 * passes. So each signed checkpoint is also delivered outside the database (an append-only JSONL file, an HTTP
 * endpoint, or both), and verification compares the chain with the latest checkpoint the witness holds.
 *
 * Delivery is at least once, in seq order per tenant, after the checkpoint committed: the scheduler calls
 * {@link publish} every sweep; a sink that fails is retried on the next one (its progress is not advanced).
 */
@Injectable()
export class AuditWitness {
  private readonly logger = new Logger('AuditWitness');
  private readonly sinks: Sink[];

  constructor(
    private readonly repository: AuditWitnessRepository,
    private readonly signing: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sinks = [];
    if (config.auditWitnessFile) this.sinks.push(fileSink(config.auditWitnessFile));
    if (config.auditWitnessUrl) this.sinks.push(httpSink(config.auditWitnessUrl, config.auditWitnessToken));
  }

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  /** Delivers every checkpoint a sink has not received; returns how many were delivered in all. */
  async publish(): Promise<number> {
    let delivered = 0;
    for (const sink of this.sinks) {
      for (;;) {
        const batch = await this.repository.pending(sink.id, PAGE);
        if (batch.length === 0) break;
        try {
          await sink.deliver(batch);
        } catch (error) {
          this.logger.error(`audit witness ${sink.id.split(':')[0]} sink failed: ${String(error)}`);
          break;
        }
        const last = new Map<string, number>();
        for (const checkpoint of batch) last.set(checkpoint.tenant_id, checkpoint.seq);
        for (const [tenantId, seq] of last) await this.repository.advance(sink.id, tenantId, seq);
        delivered += batch.length;
        if (batch.length < PAGE) break;
      }
    }
    return delivered;
  }

  /**
   * Compares a tenant's chain with the latest validly signed checkpoint in the witness file. Detects a chain cut
   * back below it (`behind_witness`) and a rewritten entry at it (`witness_mismatch`); see docs/audit.md.
   */
  async check(tenantId: string): Promise<{ report: WitnessReport; broken?: VerifyReport['first_broken'] }> {
    const file = this.config.auditWitnessFile;
    if (!file) throw new Error('no witness file configured');
    const { latest, invalid } = await this.witnessed(file, tenantId);
    const report: WitnessReport = {
      sink: 'file',
      witnessed_seq: latest?.seq ?? null,
      ok: true,
      invalid_lines: invalid,
    };
    if (!latest) return { report };
    const chain = await this.repository.chainAt(tenantId, latest.seq);
    const broken = compareWithWitness(latest, {
      entryHash: chain.entryHash,
      lastSeq: chain.headSeq,
      anchorSeq: chain.anchorSeq,
    });
    if (broken) report.ok = false;
    return { report, broken };
  }

  private async witnessed(file: string, tenantId: string): Promise<Witnessed> {
    try {
      await fs.promises.access(file);
    } catch {
      return { latest: undefined, invalid: 0 };
    }
    const lines = readline.createInterface({
      input: fs.createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    return latestWitnessed(lines, tenantId, (keyId, payload, signature) =>
      this.signing.verify(keyId, payload, signature),
    );
  }
}

/** Appends one JSON line per checkpoint and fsyncs before the delivery counts. The file is created 0600. */
function fileSink(file: string): Sink {
  return {
    id: `file:${file}`,
    async deliver(checkpoints) {
      const handle = await fs.promises.open(file, 'a', 0o600);
      try {
        await handle.appendFile(checkpoints.map((c) => JSON.stringify(c) + '\n').join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
}

/** POSTs `{"checkpoints":[…]}`; any 2xx counts as received. */
function httpSink(url: string, token: string | undefined): Sink {
  return {
    id: `http:${url}`,
    async deliver(checkpoints) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ checkpoints }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
  };
}
