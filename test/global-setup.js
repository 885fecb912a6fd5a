// One PostgreSQL per test run: the server at DATABASE_URL when set (CI uses the machine's), otherwise a private
// embedded one in a temp dir. The real migrations build one template database that each test file copies.
// Plain JS importing the build: jest loads global setup outside its module mapper (`npm test` builds first).
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDataSource, migrateWithLock } from '../dist/src/core/database/data-source.js';
import { openEmbeddedPostgres } from '../dist/src/core/database/embedded-postgres.js';
import { databaseUrl, withAdmin } from './pg-admin.js';

export default async function globalSetup() {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-test-'));
    const server = await openEmbeddedPostgres(dir, 'own');
    globalThis.__agentBomEmbedded = { server, dir };
    adminUrl = databaseUrl(server.url, 'postgres');
  }
  const prefix = `abt_${Date.now().toString(36)}_${process.pid}`;
  const template = `${prefix}_template`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${template}`));
  const dataSource = createDataSource(databaseUrl(adminUrl, template), 2);
  await dataSource.initialize();
  await migrateWithLock(dataSource);
  await dataSource.destroy();

  // One Ed25519 signing key for the run (startTestApp passes it), so no test touches the developer's data dir.
  const keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-test-key-'));
  const keyFile = path.join(keyDir, 'signing.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  await fs.writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE = keyFile;

  process.env.AGENT_BOM_TEST_ADMIN_URL = adminUrl;
  process.env.AGENT_BOM_TEST_TEMPLATE = template;
  process.env.AGENT_BOM_TEST_PREFIX = prefix;
}
