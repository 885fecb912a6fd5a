export { databaseUrl, withAdmin } from '../pg-admin.js';

/** What jest's global setup prepared for this run. */
export interface TestRun {
  /** A URL with rights to CREATE/DROP DATABASE (the server's `postgres` database). */
  adminUrl: string;
  /** Migrated template every test database is copied from. */
  template: string;
  /** Prefix of every database this run creates, so teardown can drop leftovers. */
  prefix: string;
}

export function testRun(): TestRun {
  const { AGENT_BOM_TEST_ADMIN_URL, AGENT_BOM_TEST_TEMPLATE, AGENT_BOM_TEST_PREFIX } = process.env;
  if (!AGENT_BOM_TEST_ADMIN_URL || !AGENT_BOM_TEST_TEMPLATE || !AGENT_BOM_TEST_PREFIX) {
    throw new Error('test database not prepared: run the suite through `npm test` (jest globalSetup)');
  }
  return {
    adminUrl: AGENT_BOM_TEST_ADMIN_URL,
    template: AGENT_BOM_TEST_TEMPLATE,
    prefix: AGENT_BOM_TEST_PREFIX,
  };
}
