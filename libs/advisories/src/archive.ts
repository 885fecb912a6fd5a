import { promises as fs } from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import { OSV_LIMITS } from './osv.js';

/** Bounds on an advisory archive or directory (the full OSV export of npm + PyPI is ~60k files, ~1 GiB). */
export const ARCHIVE_LIMITS = {
  maxEntries: 500_000,
  maxEntryBytes: OSV_LIMITS.maxRecordBytes,
  maxTotalBytes: 4 * 1024 * 1024 * 1024,
  /** Above this compression ratio an entry is a bomb, not JSON (real OSV JSON compresses ~5-15x). */
  maxRatio: 100,
} as const;

export type ArchiveErrorCode =
  'ARCHIVE_UNSAFE_PATH' | 'ARCHIVE_BOMB' | 'ARCHIVE_TOO_LARGE' | 'ARCHIVE_MALFORMED' | 'ARCHIVE_UNREADABLE';

/** An archive refused as a whole; nothing from it may be written. */
export class ArchiveError extends Error {
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** One `*.json` document of the archive, by its path inside it. */
export interface ArchiveDocument {
  name: string;
  text: string;
}

/**
 * Reads every `*.json` file of an OSV directory (recursively; symlinks are not followed) or `.zip` (the format
 * of `https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip`) and calls `onDocument` for each.
 * Nothing is ever extracted to disk. Refuses, with an `ArchiveError`, entry names that climb (`..`) or are
 * absolute (zip-slip), entries whose size or compression ratio make them a bomb, and archives past the bounds.
 */
export async function readOsvArchive(
  source: string,
  onDocument: (doc: ArchiveDocument) => Promise<void>,
): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(source);
  } catch (error) {
    throw new ArchiveError('ARCHIVE_UNREADABLE', `${source}: ${(error as Error).message}`);
  }
  if (stat.isDirectory()) return readDirectory(source, onDocument);
  return readZip(source, onDocument);
}

async function readDirectory(
  root: string,
  onDocument: (doc: ArchiveDocument) => Promise<void>,
): Promise<void> {
  const stack = [root];
  let entries = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    for (const dirent of await fs.readdir(dir, { withFileTypes: true })) {
      if (++entries > ARCHIVE_LIMITS.maxEntries)
        throw new ArchiveError('ARCHIVE_TOO_LARGE', `more than ${ARCHIVE_LIMITS.maxEntries} entries`);
      const full = path.join(dir, dirent.name);
      if (dirent.isDirectory()) stack.push(full);
      else if (dirent.isFile() && dirent.name.endsWith('.json')) {
        const size = (await fs.stat(full)).size;
        const name = path.relative(root, full);
        if (size > ARCHIVE_LIMITS.maxEntryBytes) await onDocument({ name, text: tooLarge(size) });
        else await onDocument({ name, text: await fs.readFile(full, 'utf8') });
      }
    }
  }
}

/** A placeholder the record parser reports as "larger than …" so one oversized file is reported, not fatal. */
function tooLarge(size: number): string {
  return ' '.repeat(Math.min(size, ARCHIVE_LIMITS.maxEntryBytes + 1));
}

export function checkEntryName(name: string): void {
  const parts = name.split(/[\\/]/);
  if (
    name.startsWith('/') ||
    name.startsWith('\\') ||
    /^[a-zA-Z]:/.test(name) ||
    parts.includes('..') ||
    name.includes('\0')
  ) {
    throw new ArchiveError(
      'ARCHIVE_UNSAFE_PATH',
      `refused entry ${JSON.stringify(name.slice(0, 200))}: path escapes the archive`,
    );
  }
}

function readZip(file: string, onDocument: (doc: ArchiveDocument) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    // decodeStrings off: yauzl's own name check would throw a generic error before we can name the refusal.
    yauzl.open(
      file,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true },
      (openError, zip) => {
        if (openError || !zip)
          return reject(
            new ArchiveError(
              'ARCHIVE_MALFORMED',
              `${path.basename(file)}: ${openError?.message ?? 'not a zip'}`,
            ),
          );
        let entries = 0;
        let total = 0;
        const fail = (error: unknown) => {
          zip.close();
          reject(
            error instanceof ArchiveError
              ? error
              : new ArchiveError('ARCHIVE_MALFORMED', (error as Error).message),
          );
        };
        zip.on('error', fail);
        zip.on('end', () => resolve());
        zip.on('entry', (entry: yauzl.Entry) => {
          try {
            const name = (entry.fileName as unknown as Buffer).toString('utf8');
            checkEntryName(name);
            if (++entries > ARCHIVE_LIMITS.maxEntries)
              throw new ArchiveError('ARCHIVE_TOO_LARGE', `more than ${ARCHIVE_LIMITS.maxEntries} entries`);
            if (name.endsWith('/') || !name.endsWith('.json')) return zip.readEntry();
            const size = entry.uncompressedSize;
            const ratio = size / Math.max(1, entry.compressedSize);
            if (size > ARCHIVE_LIMITS.maxEntryBytes && ratio > ARCHIVE_LIMITS.maxRatio) {
              throw new ArchiveError(
                'ARCHIVE_BOMB',
                `refused entry ${JSON.stringify(name)}: ${size} bytes at ratio ${Math.round(ratio)}:1`,
              );
            }
            total += size;
            if (total > ARCHIVE_LIMITS.maxTotalBytes)
              throw new ArchiveError(
                'ARCHIVE_BOMB',
                `more than ${ARCHIVE_LIMITS.maxTotalBytes} bytes uncompressed`,
              );
            if (size > ARCHIVE_LIMITS.maxEntryBytes) {
              onDocument({ name, text: tooLarge(size) }).then(() => zip.readEntry(), fail);
              return;
            }
            zip.openReadStream(entry, (streamError, stream) => {
              if (streamError || !stream) return fail(streamError);
              const chunks: Buffer[] = [];
              let read = 0;
              stream.on('data', (chunk: Buffer) => {
                read += chunk.length;
                // validateEntrySizes stops a stream that lies about its size; this is the belt to those braces.
                if (read > ARCHIVE_LIMITS.maxEntryBytes)
                  stream.destroy(
                    new ArchiveError('ARCHIVE_BOMB', `entry ${JSON.stringify(name)} inflates past its size`),
                  );
                else chunks.push(chunk);
              });
              stream.on('error', fail);
              stream.on('end', () => {
                onDocument({ name, text: Buffer.concat(chunks).toString('utf8') }).then(
                  () => zip.readEntry(),
                  fail,
                );
              });
            });
          } catch (error) {
            fail(error);
          }
        });
        zip.readEntry();
      },
    );
  });
}
