import { ArchiveError } from '../../libs/advisories/src/index.js';
import { AdvisoriesService } from '../../src/modules/advisories/advisories.service.js';
import { withSpinner } from '../progress.js';
import { printJson, withControlPlane } from './context.js';

/** Exit codes of `agent-bom db import` (docs/cli.md). */
export const DB_IMPORT_EXIT = { ok: 0, refused: 1, malformed: 3 } as const;

/**
 * `agent-bom db import <dir|zip>`: loads OSV-format advisories into the control plane's PostgreSQL in one
 * transaction. Idempotent: a second import of the same data reports everything `unchanged`. An archive refused
 * as a whole (zip-slip, bomb, not a zip) writes nothing and exits 1; malformed records are reported, the valid
 * ones imported, and `--strict` turns them into exit 3.
 */
export async function importAdvisories(
  source: string,
  options: { json?: boolean; strict?: boolean },
): Promise<number> {
  return withControlPlane({ json: options.json }, async ({ app }) => {
    const service = app.get(AdvisoriesService);
    try {
      const report = await withSpinner(`importing advisories from ${source}`, options.json, () =>
        service.import(source),
      );
      if (options.json) printJson(report);
      else {
        process.stdout.write(
          `imported ${report.documents} document(s) from ${source}: ${report.inserted} new, ${report.updated} updated, ` +
            `${report.unchanged} unchanged, ${report.skipped} skipped (other ecosystems), ${report.malformed} malformed; ` +
            `${report.total} advisories in the database\n`,
        );
        for (const bad of report.malformed_records)
          process.stderr.write(`malformed: ${bad.name}: ${bad.reason}\n`);
      }
      return options.strict && report.malformed ? DB_IMPORT_EXIT.malformed : DB_IMPORT_EXIT.ok;
    } catch (error) {
      if (!(error instanceof ArchiveError)) throw error;
      if (options.json) printJson({ error: { code: error.code, message: error.message }, source });
      process.stderr.write(
        `agent-bom db import: refused (${error.code}): ${error.message}; nothing was imported\n`,
      );
      return DB_IMPORT_EXIT.refused;
    }
  });
}
