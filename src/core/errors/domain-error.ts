import { ERROR_CODES, type ErrorCode } from '../../../libs/contracts/src/index.js';

/**
 * An error the client may see: a stable code, a message safe to show, optional structured details.
 * Services throw these; one filter maps them to HTTP. Anything else becomes a 500 with no internals.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);
export const conflict = (message: string, details?: unknown) => new DomainError('CONFLICT', message, details);
export const invalid = (field: string, problem: string) =>
  new DomainError('VALIDATION_ERROR', `${field}: ${problem}`, [{ field, problems: [problem] }]);
