import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations/index.js';
import { AuditCheckpointEntity } from '../../modules/audit/entities/audit-checkpoint.entity.js';
import { AuditEntryEntity } from '../../modules/audit/entities/audit-entry.entity.js';
import { AuditHeadEntity } from '../../modules/audit/entities/audit-head.entity.js';
import { ApiKeyEntity } from '../../modules/auth/entities/api-key.entity.js';
import { SessionEntity } from '../../modules/sso/entities/session.entity.js';
import { TenantEntity } from '../../modules/tenants/entities/tenant.entity.js';

/** Every entity of the control plane. The schema itself comes only from migrations, never `synchronize`. */
export const ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  AuditEntryEntity,
  AuditHeadEntity,
  AuditCheckpointEntity,
  SessionEntity,
];

/** Any key works as long as every replica and the CLI agree on it. */
const MIGRATION_LOCK_KEY = 0x61626f6d; // "abom"

export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, application_name: 'agent-bom' },
  });
}

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so N replicas booting at once
 * apply each migration exactly once; the others wait, then find nothing pending.
 * Returns the names of the migrations this call applied.
 */
export async function migrateWithLock(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Names of migrations not yet applied to this database. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const table = await dataSource.query(`SELECT to_regclass('schema_migrations') AS t`);
  const applied = new Set<string>();
  if (table[0]?.t) {
    for (const row of (await dataSource.query('SELECT name FROM schema_migrations')) as { name: string }[]) {
      applied.add(row.name);
    }
  }
  return MIGRATIONS.map((m) => new m().name).filter((name) => !applied.has(name));
}
