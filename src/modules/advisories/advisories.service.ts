import { Injectable } from '@nestjs/common';
import {
  parseOsv,
  readOsvArchive,
  type Advisory,
  type AdvisorySource,
} from '../../../libs/advisories/src/index.js';
import { Transactions } from '../../core/database/transactions.js';
import { AdvisoriesRepository } from './advisories.repository.js';

/** What `agent-bom db import` reports. */
export interface ImportReport {
  source: string;
  /** JSON documents read. */
  documents: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Valid records that affect no npm or PyPI package. */
  skipped: number;
  malformed: number;
  /** The first 100 malformed records, with the field that is wrong. */
  malformed_records: Array<{ name: string; reason: string }>;
  /** Advisories in the database after the import. */
  total: number;
}

const BATCH = 500;

@Injectable()
export class AdvisoriesService implements AdvisorySource {
  readonly description = 'postgresql';

  constructor(
    private readonly repository: AdvisoriesRepository,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Imports an OSV directory or zip in ONE transaction: an archive refused part-way (zip-slip, bomb) rolls back
   * everything, so the database never holds half an import. Malformed records are reported and skipped.
   */
  async import(source: string, onProgress?: (documents: number) => void): Promise<ImportReport> {
    const report: ImportReport = {
      source,
      documents: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      malformed: 0,
      malformed_records: [],
      total: 0,
    };
    await this.transactions.run(async (tx) => {
      let batch = new Map<string, Advisory>();
      const flush = async () => {
        const counts = await this.repository.upsert([...batch.values()], tx);
        report.inserted += counts.inserted;
        report.updated += counts.updated;
        report.unchanged += counts.unchanged;
        batch = new Map();
      };
      await readOsvArchive(source, async ({ name, text }) => {
        report.documents++;
        const parsed = parseOsv(text);
        if (parsed.ok === true) {
          // A later document with the same id wins, as it would on a second import.
          if (batch.has(parsed.advisory.id)) await flush();
          batch.set(parsed.advisory.id, parsed.advisory);
          if (batch.size >= BATCH) await flush();
        } else if (parsed.ok === 'skipped') report.skipped++;
        else {
          report.malformed++;
          if (report.malformed_records.length < 100)
            report.malformed_records.push({ name, reason: parsed.reason });
        }
        if (report.documents % 1000 === 0) onProgress?.(report.documents);
      });
      await flush();
    });
    report.total = await this.repository.count();
    return report;
  }

  /** Keys are `ecosystem:name` (`packageKey`); the repository answers in the same keys. */
  candidates(keys: readonly string[]): Promise<Map<string, Advisory[]>> {
    return this.repository.byPackages(
      keys.map((key) => {
        const colon = key.indexOf(':');
        return [key.slice(0, colon), key.slice(colon + 1)] as const;
      }),
    );
  }

  count(): Promise<number> {
    return this.repository.count();
  }
}
