import { Validator, type OutputUnit } from '@cfworker/json-schema';
import schema from '../../../../libs/policy/schema/policy.schema.json';

/**
 * Validates a policy document against libs/policy's JSON schema in the browser, without `eval` (the CSP forbids
 * it, which rules out ajv's compiled validators). The server's libs/policy compile is still the authority: its
 * problems are shown inline too when a save is refused.
 */
const validator = new Validator(schema as object, '2020-12', false);

export interface Problem {
  where: string;
  message: string;
}

export function checkPolicyText(text: string): { document?: unknown; problems: Problem[] } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { problems: [{ where: 'JSON', message: (error as Error).message }] };
  }
  const result = validator.validate(document);
  if (result.valid) return { document, problems: [] };
  const leaves = result.errors.filter(
    (e: OutputUnit) => !/^(A subschema|Property|Items did not match)/.test(e.error),
  );
  const chosen = (leaves.length ? leaves : result.errors).slice(0, 20);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of chosen) {
    const where = error.instanceLocation.replace(/^#/, '') || '/';
    const key = `${where}\u0000${error.error}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ where, message: error.error });
  }
  return { document, problems };
}
