import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yazl from 'yazl';
import { ArchiveError, readOsvArchive } from './archive.js';
import { loadOsvSource } from './load.js';

const OSV = path.resolve('test/fixtures/osv');

async function makeZip(file: string, entries: Array<[string, Buffer]>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name);
  zip.end();
  await new Promise<void>((resolve, reject) =>
    zip.outputStream.pipe(createWriteStream(file)).on('close', resolve).on('error', reject),
  );
}

async function refusal(file: string): Promise<string> {
  try {
    await readOsvArchive(file, async () => undefined);
    return 'accepted';
  } catch (error) {
    if (error instanceof ArchiveError) return error.code;
    throw error;
  }
}

describe('OSV archives', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'osv-archive-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads a zip in the layout of OSV’s all.zip', async () => {
    const names = (await fs.readdir(OSV)).filter((n) => n.endsWith('.json'));
    const file = path.join(dir, 'all.zip');
    await makeZip(
      file,
      await Promise.all(
        names.map(async (n) => [n, await fs.readFile(path.join(OSV, n))] as [string, Buffer]),
      ),
    );
    const { source, malformed } = await loadOsvSource(file);
    expect(malformed).toEqual([]);
    expect(source.size).toBe(5);
  });

  it('bad-input: refuses a zip-slip entry before reading anything', async () => {
    const file = path.join(dir, 'slip.zip');
    await makeZip(file, [
      ['ok.json', Buffer.from('{}')],
      ['xx/evil.json', Buffer.from('{}')],
    ]);
    // yazl refuses to write "../"; patch the name in place (local header and central directory) as an attacker would.
    const bytes = await fs.readFile(file);
    await fs.writeFile(
      file,
      Buffer.from(bytes.toString('latin1').replaceAll('xx/evil.json', '../evil.json'), 'latin1'),
    );
    expect(await refusal(file)).toBe('ARCHIVE_UNSAFE_PATH');
  });

  it('bad-input: refuses a zip bomb by size and ratio without inflating it', async () => {
    const file = path.join(dir, 'bomb.zip');
    await makeZip(file, [['a.json', Buffer.alloc(64 * 1024 * 1024, 0x20)]]);
    expect((await fs.stat(file)).size).toBeLessThan(200 * 1024);
    expect(await refusal(file)).toBe('ARCHIVE_BOMB');
  });

  it('bad-input: refuses something that is not a zip', async () => {
    const file = path.join(dir, 'not.zip');
    await fs.writeFile(file, 'hello');
    expect(await refusal(file)).toBe('ARCHIVE_MALFORMED');
    expect(await refusal(path.join(dir, 'missing.zip'))).toBe('ARCHIVE_UNREADABLE');
  });

  it('reports malformed records and keeps the valid ones', async () => {
    const file = path.join(dir, 'mixed.zip');
    await makeZip(file, [
      ['good.json', await fs.readFile(path.join(OSV, 'GHSA-35jh-r3h4-6jhm.json'))],
      ['bad.json', Buffer.from('{"id":"x y"}')],
      ['notes.txt', Buffer.from('ignored')],
    ]);
    const { source, malformed } = await loadOsvSource(file);
    expect(source.size).toBe(1);
    expect(malformed).toEqual([{ name: 'bad.json', reason: expect.stringMatching(/^id:/) }]);
  });
});
