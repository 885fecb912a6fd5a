/** A CLI failure the user caused: exit code 2 and a message, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}
