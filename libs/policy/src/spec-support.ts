// Shared by the specs of this library only; not exported from index.ts.
import { compilePolicy } from './compile.js';
import { evaluate } from './evaluate.js';
import type { Decision, EvaluationContext, PolicyDocument, PolicyRule, ToolCall } from './types.js';

/** A `tools/call` of `read_file`, with overrides. */
export const call = (overrides: Partial<ToolCall> = {}): ToolCall => ({
  method: 'tools/call',
  tool: 'read_file',
  ...overrides,
});

/** Compiles `rules` into a policy and decides one call. */
export function decide(
  rules: PolicyRule[],
  toolCall: ToolCall = call(),
  context: EvaluationContext = {},
  defaultEffect?: PolicyDocument['default_effect'],
): Decision {
  const document: PolicyDocument = {
    version: 1,
    rules,
    ...(defaultEffect ? { default_effect: defaultEffect } : {}),
  };
  return evaluate(compilePolicy(document), toolCall, context);
}
