import { Injectable } from '@nestjs/common';
import { EXPORT_FORMAT } from '../../../libs/contracts/src/index.js';
import type { Principal } from '../../core/auth/principal.js';
import { invalid } from '../../core/errors/domain-error.js';
import { Transactions } from '../../core/database/transactions.js';
import { AuditRepository } from './audit.repository.js';
import { AuditWriter } from './audit-writer.js';
import { AuditService } from './audit.service.js';
import { ChainReader, type ChainItem, type ChainRange } from './chain-reader.js';

/** Lines are written to the socket in chunks of this many: memory stays flat, syscalls stay few. */
const LINES_PER_CHUNK = 500;

export interface AuditExport {
  filename: string;
  /** NDJSON, chunk by chunk; pulled by the response stream, so a slow client slows the reads, not memory. */
  lines: AsyncGenerator<string>;
}

/**
 * `GET /v1/audit/export`: a contiguous seq range as NDJSON (format in docs/audit.md): a header line, the
 * entries with the checkpoints among them, and a final checkpoint signed now over the last entry.
 *
 * The export is itself recorded in the chain first, so it contains its own record. The server verifies the
 * chain as it streams and signs the final checkpoint only if it verified: it never signs a hash it has not
 * checked. If it did not verify, the last line is `{"kind":"end","ok":false,…}` instead, and the lines before
 * it are the evidence.
 */
@Injectable()
export class AuditExportService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly reader: ChainReader,
    private readonly writer: AuditWriter,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
  ) {}

  async start(principal: Principal, query: { from_seq?: number; to_seq?: number }): Promise<AuditExport> {
    const tenantId = principal.tenantId;
    if (query.from_seq !== undefined && query.to_seq !== undefined && query.from_seq > query.to_seq) {
      throw invalid('from_seq', 'must not be after to_seq');
    }
    await this.audit.record(principal, {
      type: 'audit.exported',
      details: { from_seq: query.from_seq ?? null, to_seq: query.to_seq ?? null },
    });
    const bounds = await this.repository.bounds(tenantId);
    const start = (bounds.head?.anchorSeq ?? 0) + 1;
    const last = Math.max(bounds.head?.seq ?? 0, bounds.maxEntrySeq ?? 0);
    const from = Math.max(query.from_seq ?? start, start);
    const to = Math.min(query.to_seq ?? last, last);
    if (from > to) throw invalid('from_seq', `must be at most ${to}, the last seq`);
    const range: ChainRange = {
      entriesFrom: from,
      entriesTo: to,
      checkpointsFrom: Math.max(from - 1, 1),
      // A whole-chain export also carries checkpoints beyond the head: evidence of deleted newest rows.
      checkpointsTo: query.to_seq === undefined ? Math.max(bounds.maxCheckpointSeq ?? 0, to) : to,
    };
    const header = {
      kind: 'header',
      format: EXPORT_FORMAT,
      tenant_id: tenantId,
      exported_at: new Date().toISOString(),
      from_seq: from,
      to_seq: to,
      partial: from > start,
      hash_algorithm: 'sha256',
      signature_algorithm: 'ed25519',
    };
    return {
      filename: `audit-${tenantId}-${from}-${to}.ndjson`,
      lines: this.lines(tenantId, header, range),
    };
  }

  private async *lines(
    tenantId: string,
    header: { partial: boolean; to_seq: number },
    range: ChainRange,
  ): AsyncGenerator<string> {
    const verifier = this.reader.verifier(tenantId, header.partial ? 'partial' : 'strict');
    let chunk = JSON.stringify(header) + '\n';
    let count = 0;
    for await (const item of this.reader.items(tenantId, range)) {
      if (item.kind === 'entry') verifier.addEntry(item.entry);
      else verifier.addCheckpoint(item.checkpoint);
      chunk += line(item);
      if (++count % LINES_PER_CHUNK === 0) {
        yield chunk;
        chunk = '';
      }
    }
    const report = verifier.finish({ head: { seq: header.to_seq } });
    if (report.ok) {
      const checkpoint = this.writer.sign(tenantId, header.to_seq, verifier.lastHash!, 'export');
      await this.transactions.run((tx) => this.repository.insertCheckpoint(tenantId, checkpoint, tx));
      chunk += JSON.stringify({ kind: 'checkpoint', ...checkpoint }) + '\n';
    } else {
      chunk += JSON.stringify({ kind: 'end', ok: false, first_broken: report.first_broken }) + '\n';
    }
    yield chunk;
  }
}

function line(item: ChainItem): string {
  return item.kind === 'entry'
    ? JSON.stringify({ kind: 'entry', ...item.entry }) + '\n'
    : JSON.stringify({ kind: 'checkpoint', ...item.checkpoint }) + '\n';
}
