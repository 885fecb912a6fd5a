import { POLICY_LIMITS } from '../../../libs/contracts/src/index.js';
import type { PolicyProblem } from '../../../libs/policy/src/index.js';
import { conflict, DomainError, notFound } from '../../core/errors/domain-error.js';
import { fieldOf } from './effective-policy.js';

/**
 * A policy the engine refuses: 400 whose `details` list each problem with its field path, the offending rule's
 * id and libs/policy's own location (`where`). At most {@link POLICY_LIMITS.problemsReported} are listed; the
 * message gives the total and the first few.
 */
export function invalidPolicy(problems: readonly PolicyProblem[]): DomainError {
  const details = problems.slice(0, POLICY_LIMITS.problemsReported).map((p) => ({
    field: fieldOf(p),
    ...(p.rule_id === undefined ? {} : { rule_id: p.rule_id }),
    where: p.where,
    problems: [p.message],
  }));
  const shown = details
    .slice(0, 3)
    .map(
      (d) =>
        `${d.field}${d.rule_id === undefined ? '' : ` (rule ${JSON.stringify(d.rule_id)})`}: ${d.problems[0]}`,
    );
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return new DomainError(
    'VALIDATION_ERROR',
    `invalid policy (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown.join('; ')}${more}`,
    details,
  );
}

export const policyNotFound = () => notFound('policy');

export const versionMismatch = (expected: number, current: number) =>
  conflict(`the policy is at version ${current}, not ${expected}: re-read it and retry`, {
    expected_version: expected,
    current_version: current,
  });

export const nameTaken = (name: string) =>
  conflict(`a policy named ${JSON.stringify(name)} already exists in this tenant`);
