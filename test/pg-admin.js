// Database administration shared by jest's global setup/teardown (plain JS) and the TS test helpers.
import pg from 'pg';

/** The same server URL pointing at another database. */
export function databaseUrl(serverUrl, database) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `fn` on a short-lived admin connection (CREATE/DROP DATABASE cannot run in a pool transaction). */
export async function withAdmin(adminUrl, fn) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
