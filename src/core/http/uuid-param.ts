import { ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import { invalid } from '../errors/domain-error.js';

/** `@Param('id', uuidParam('id'))`: a malformed id is a 400 naming the field, not a database error. */
export const uuidParam = (field: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => invalid(field, 'must be a UUID') });

/**
 * `@Param('id', patternParam('id', /^f_[0-9a-f]{24}$/, 'must be a finding id'))`: an id of the wrong shape is a 400
 * naming the field. Parameter pipes run before the body is validated, so the id is what the caller hears about.
 */
export const patternParam = (
  field: string,
  pattern: RegExp,
  message: string,
): PipeTransform<string, string> => ({
  transform(value: string) {
    if (!pattern.test(value)) throw invalid(field, message);
    return value;
  },
});
