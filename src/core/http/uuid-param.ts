import { ParseUUIDPipe } from '@nestjs/common';
import { invalid } from '../errors/domain-error.js';

/** `@Param('id', uuidParam('id'))`: a malformed id is a 400 naming the field, not a database error. */
export const uuidParam = (field: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => invalid(field, 'must be a UUID') });
