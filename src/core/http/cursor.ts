import { invalid } from '../errors/domain-error.js';

/**
 * Opaque cursors for keyset pagination: the sort key of the last row of a page, as base64url JSON.
 * A cursor that does not decode to the expected shape is a 400 naming `cursor`.
 */
export function encodeCursor(parts: Array<string | Date>): string {
  const values = parts.map((p) => (p instanceof Date ? p.toISOString() : p));
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(
  cursor: string,
  shape: ReadonlyArray<'string' | 'date' | 'uuid'>,
): Array<string | Date> {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(values) || values.length !== shape.length) throw new Error();
    return values.map((value, i) => {
      if (typeof value !== 'string' || value.length > 1000) throw new Error();
      if (shape[i] === 'uuid' && !/^[0-9a-f-]{36}$/.test(value)) throw new Error();
      if (shape[i] !== 'date') return value;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new Error();
      return date;
    });
  } catch {
    throw invalid('cursor', 'is not a cursor this API issued');
  }
}

/** Cursor of rows ordered by (timestamp, id) descending. */
export const timeIdCursor = {
  encode: (at: Date, id: string) => encodeCursor([at, id]),
  decode: (cursor: string) => {
    const [at, id] = decodeCursor(cursor, ['date', 'uuid']) as [Date, string];
    return { at, id };
  },
};
