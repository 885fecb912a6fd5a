import type { TestApp } from './app.js';

/** Every text cell of every table in the database, for "this value is stored nowhere" assertions. */
export async function everyStoredValue(t: TestApp): Promise<string> {
  const tables = (await t.db.dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`,
  )) as { tablename: string }[];
  const dumps = [];
  for (const { tablename } of tables) {
    dumps.push(JSON.stringify(await t.db.dataSource.query(`SELECT * FROM "${tablename}"`)));
  }
  return dumps.join('\n');
}
