/**
 * The rows of a `… RETURNING` statement run through TypeORM's `query`: for UPDATE and DELETE on PostgreSQL it
 * answers `[rows, affectedCount]`, for INSERT and SELECT just the rows.
 */
export function returned<T = unknown>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
