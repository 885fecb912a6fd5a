import { ValidationPipe, type ValidationError } from '@nestjs/common';
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
 * DTOs validate and whitelist: unknown fields are refused (not silently dropped), values are transformed to
 * their declared types, and the error names every bad field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
