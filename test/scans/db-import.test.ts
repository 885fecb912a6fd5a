import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yazl from 'yazl';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { runCli } from '../helpers/processes.js';

const OSV = path.resolve('test/fixtures/osv');

async function zipOf(file: string, entries: Array<[string, Buffer]>): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name);
  zip.end();
  await new Promise<void>((resolve, reject) =>
    zip.outputStream.pipe(createWriteStream(file)).on('close', resolve).on('error', reject),
  );
  return file;
}

/** `agent-bom db import` as an operator runs it: the built CLI against a real migrated PostgreSQL. */
describe('agent-bom db import', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const count = async () =>
    ((await db.dataSource.query('SELECT count(*)::int AS n FROM advisories')) as Array<{ n: number }>)[0].n;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-db-import-'));
    env = { ...process.env, DATABASE_URL: db.url };
    delete env.NODE_OPTIONS;
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('imports a directory of real OSV records, then re-imports idempotently', async () => {
    const first = await runCli(['db', 'import', OSV, '--json'], env);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      documents: 6,
      inserted: 5,
      updated: 0,
      unchanged: 0,
      skipped: 1,
      malformed: 0,
      total: 5,
    });
    const second = await runCli(['db', 'import', OSV], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 new, 0 updated, 5 unchanged');
    const rows = await db.dataSource.query(
      `SELECT p.ecosystem, p.name, a.severity, a.cvss_score::float AS score FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id
        WHERE a.id = 'GHSA-xvch-5gv4-984h'`,
    );
    expect(rows).toEqual([{ ecosystem: 'npm', name: 'minimist', severity: 'critical', score: 9.8 }]);
  });

  it('updates a changed record and reports malformed ones (exit 3 with --strict)', async () => {
    const lodash = JSON.parse(await fs.readFile(path.join(OSV, 'GHSA-35jh-r3h4-6jhm.json'), 'utf8'));
    lodash.modified = '2025-01-01T00:00:00Z';
    lodash.summary = 'changed';
    const zip = await zipOf(path.join(dir, 'update.zip'), [
      ['GHSA-35jh-r3h4-6jhm.json', Buffer.from(JSON.stringify(lodash))],
      ['broken.json', Buffer.from('{"id": "GHSA-x", "modified": "never"}')],
    ]);
    const result = await runCli(['db', 'import', zip, '--json', '--strict'], env);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      inserted: 0,
      updated: 1,
      malformed: 1,
      malformed_records: [{ name: 'broken.json', reason: expect.stringMatching(/^modified:/) }],
    });
    const [row] = await db.dataSource.query(
      `SELECT summary FROM advisories WHERE id = 'GHSA-35jh-r3h4-6jhm'`,
    );
    expect(row.summary).toBe('changed');
  });

  it('bad-input: a zip-slip archive and a zip bomb are refused and write nothing', async () => {
    const before = await count();
    const newRecord = Buffer.from(
      JSON.stringify({
        id: 'TEST-NEW-1',
        modified: '2025-01-01T00:00:00Z',
        affected: [
          {
            package: { ecosystem: 'npm', name: 'x' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
          },
        ],
      }),
    );
    const slip = await zipOf(path.join(dir, 'slip.zip'), [
      ['a-new.json', newRecord],
      ['xx/evil.json', Buffer.from('{}')],
    ]);
    const bytes = await fs.readFile(slip);
    await fs.writeFile(
      slip,
      Buffer.from(bytes.toString('latin1').replaceAll('xx/evil.json', '../evil.json'), 'latin1'),
    );
    const slipResult = await runCli(['db', 'import', slip], env);
    expect(slipResult.code).toBe(1);
    expect(slipResult.stderr).toContain('refused (ARCHIVE_UNSAFE_PATH)');
    expect(slipResult.stderr).toContain('nothing was imported');

    const bomb = await zipOf(path.join(dir, 'bomb.zip'), [
      ['a-new.json', newRecord],
      ['b.json', Buffer.alloc(64 * 1024 * 1024, 0x20)],
    ]);
    const bombResult = await runCli(['db', 'import', bomb, '--json'], env);
    expect(bombResult.code).toBe(1);
    expect(JSON.parse(bombResult.stdout).error.code).toBe('ARCHIVE_BOMB');
    expect(await count()).toBe(before);

    const missing = await runCli(['db', 'import', path.join(dir, 'nope.zip')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ARCHIVE_UNREADABLE');
  });
});
