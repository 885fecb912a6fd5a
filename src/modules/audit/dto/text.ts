import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

/**
 * No control characters, no lone surrogates (they cannot round-trip through PostgreSQL or hash stably) and no
 * bidirectional overrides (which make an audit line display differently from what it says).
 */
export const SINGLE_LINE = /^[^\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]*$/u;
export const MULTI_LINE = /^(?:[\t\n]|[^\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069])*$/u;

/** ISO 8601 with a time zone: a zone-less time would be read in the server's local zone. */
export const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A bounded, displayable string: 1..max characters; tabs and newlines only when `multiline`. */
export const IsPlainText = (max: number, options: { multiline?: boolean } = {}) =>
  applyDecorators(
    IsString(),
    Length(1, max),
    Matches(options.multiline ? MULTI_LINE : SINGLE_LINE, {
      message: ({ property }) =>
        `${property} must be text without control or bidirectional-override characters`,
    }),
  );
