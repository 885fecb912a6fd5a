import { invalid } from '../errors/domain-error.js';

/** Opaque cursor for keyset pagination over (created_at, id) descending. */
export interface Position {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(date.getTime()))
      throw new Error();
    return { createdAt: date, id };
  } catch {
    throw invalid('cursor', 'is not a cursor this API issued');
  }
}
