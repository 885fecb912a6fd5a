import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/core/database/data-source.js';
import { databaseUrl, testRun, withAdmin } from './postgres-admin.js';

export interface TestDatabase {
  url: string;
  name: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file: a copy of the migrated template (or an empty one with
 * `{ migrated: false }`), with an open data source.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const { adminUrl, template, prefix } = testRun();
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const from = options.migrated === false ? 'template0' : template;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${from}`));
  const url = databaseUrl(adminUrl, name);
  const dataSource = createDataSource(url, 5);
  await dataSource.initialize();
  return {
    url,
    name,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
