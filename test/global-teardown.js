// Drops every database this run created (leftovers of crashed files included) and stops the embedded server.
import fs from 'node:fs/promises';
import path from 'node:path';
import { withAdmin } from './pg-admin.js';

export default async function globalTeardown() {
  const adminUrl = process.env.AGENT_BOM_TEST_ADMIN_URL;
  const prefix = process.env.AGENT_BOM_TEST_PREFIX;
  if (adminUrl && prefix) {
    await withAdmin(adminUrl, async (client) => {
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${prefix}%`,
      ]);
      for (const { datname } of rows) {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
      }
    });
  }
  const keyFile = process.env.AGENT_BOM_TEST_SIGNING_KEY_FILE;
  if (keyFile) await fs.rm(path.dirname(keyFile), { recursive: true, force: true });
  const embedded = globalThis.__agentBomEmbedded;
  if (embedded) {
    await embedded.server.stop();
    await fs.rm(embedded.dir, { recursive: true, force: true });
  }
}
