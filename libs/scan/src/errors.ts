/** Stable codes for input the extractor refuses; each names what was wrong. */
export type ExtractionErrorCode =
  | 'LOCKFILE_TOO_LARGE'
  | 'LOCKFILE_TOO_DEEP'
  | 'LOCKFILE_TOO_MANY_PACKAGES'
  | 'LOCKFILE_MALFORMED'
  | 'LOCKFILE_HOSTILE_KEY'
  | 'LOCKFILE_HOSTILE_PATH'
  | 'LOCKFILE_UNREADABLE';

/** A lockfile the scanner will not read. The message says why and never contains file content beyond a key. */
export class ExtractionError extends Error {
  constructor(
    readonly code: ExtractionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExtractionError';
  }
}
