import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';

interface FieldProblem {
  field: string;
  problems: string[];
}

/**
 * Flattens class-validator's tree into `[{field: "agents.0.client", problems: [...]}]`. class-validator words a
 * problem with the leaf property ("client must be …"); it is re-worded with the full path so that a message
 * about a nested field says which one. Submitted values are never echoed.
 */
function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const problems = Object.values(error.constraints ?? {}).map((problem) => {
      if (problem.startsWith(`${error.property} `)) return field + problem.slice(error.property.length);
      const unknown = `property ${error.property} `; // forbidNonWhitelisted's wording
      return problem.startsWith(unknown) ? `property ${field} ${problem.slice(unknown.length)}` : problem;
    });
    const own = problems.length ? [{ field, problems }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * A hand-written check that a request body is one its DTO accepts as it is; `true` only when class-validator
 * would accept the same body unchanged, `false` when unsure (see {@link AcceptedAsIs}).
 */
export type PlainBodyCheck = (body: unknown) => boolean;

const plainChecks = new WeakMap<object, PlainBodyCheck>();

/**
 * Gives a body DTO a fast check for its hot route: a body the check accepts goes to the handler as the plain
 * parsed JSON, without class-transformer building instances or class-validator walking its metadata; any other
 * body (a bad one, or one the check is unsure of) goes through the DTO's decorators exactly as before, so the
 * answer to a bad body, and its wording, is the DTO's. The check must never accept what the DTO refuses: keep a
 * spec that compares the two.
 */
export function AcceptedAsIs(check: PlainBodyCheck): ClassDecorator {
  return (target) => {
    plainChecks.set(target, check);
  };
}

/** The global pipe, with the plain-body shortcut of {@link AcceptedAsIs}. */
class Validation extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const check =
      metadata.type === 'body' && metadata.metatype ? plainChecks.get(metadata.metatype) : undefined;
    if (check?.(value)) return Promise.resolve(value);
    return super.transform(value, metadata);
  }
}

/**
 * DTOs validate and whitelist: unknown fields are refused (not silently dropped), values are transformed to
 * their declared types, and the error names every bad field. `decoratorsOnly` leaves out the shortcut of
 * {@link AcceptedAsIs}: for the specs that compare a check with its DTO.
 */
export function createValidationPipe(options: { decoratorsOnly?: boolean } = {}): ValidationPipe {
  return new (options.decoratorsOnly ? ValidationPipe : Validation)({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      // A nested field is named by its path (`events.3.timestamp: …`) so the message locates it in a batch.
      const message =
        details
          .map((d) => (d.field.includes('.') ? `${d.field}: ` : '') + d.problems.join(', '))
          .join('; ') || 'invalid request';
      return new DomainError('VALIDATION_ERROR', message, details);
    },
  });
}
