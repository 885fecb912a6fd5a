import type { AdvisorySource } from '../../libs/advisories/src/index.js';
import { createDataSource } from '../../src/core/database/data-source.js';
import { AdvisoriesRepository } from '../../src/modules/advisories/advisories.repository.js';

/**
 * The control plane's advisory tables, read directly (no Nest app): `agent-bom scan` on a host that has
 * DATABASE_URL (a CI runner, the Helm CronJob) uses the database `agent-bom db import` filled.
 */
export async function openAdvisoryDatabase(
  url: string,
): Promise<{ source: AdvisorySource; count: number; close: () => Promise<void> }> {
  const dataSource = createDataSource(url, 2);
  await dataSource.initialize();
  const repository = new AdvisoriesRepository(dataSource);
  const count = await repository.count();
  const source: AdvisorySource = {
    description: 'postgresql',
    candidates: (keys) =>
      repository.byPackages(
        keys.map((k) => [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)] as const),
      ),
  };
  return { source, count, close: () => dataSource.destroy() };
}
