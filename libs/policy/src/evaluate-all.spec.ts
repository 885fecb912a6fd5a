import { describe, expect, it } from '@jest/globals';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { evaluateAll } from './evaluate.js';
import { call } from './spec-support.js';
import type { Effect } from './types.js';

/** A named policy whose one rule gives `effect` for every call (`allow` by default otherwise). */
const policy = (name: string, effect: Effect | 'none') => ({
  name,
  compiled: compilePolicy({
    version: 1,
    default_effect: 'allow',
    rules: effect === 'none' ? [] : [{ id: `${name}-rule`, effect, tools: ['read_file'] }],
  }),
});
type Named = ReturnType<typeof policy>;
const compiledOf = (p: Named): CompiledPolicy => p.compiled;
const winner = (...policies: Named[]) => {
  const best = evaluateAll(policies, compiledOf, call());
  return best && `${best.policy.name}:${best.decision.effect}`;
};

describe('evaluateAll: several policies in force at once', () => {
  it('is undefined with no policy', () => {
    expect(evaluateAll([], compiledOf, call())).toBeUndefined();
  });

  it('keeps the most severe answer: deny over warn over allow, whichever policy gives it', () => {
    expect(winner(policy('file', 'allow'), policy('bundle', 'deny'))).toBe('bundle:deny');
    expect(winner(policy('file', 'deny'), policy('bundle', 'allow'))).toBe('file:deny');
    expect(winner(policy('file', 'warn'), policy('bundle', 'allow'))).toBe('file:warn');
    expect(winner(policy('file', 'warn'), policy('bundle', 'deny'))).toBe('bundle:deny');
    expect(winner(policy('file', 'none'), policy('bundle', 'warn'))).toBe('bundle:warn');
  });

  it('names the earlier policy on a tie', () => {
    expect(winner(policy('file', 'deny'), policy('bundle', 'deny'))).toBe('file:deny');
    expect(winner(policy('file', 'warn'), policy('bundle', 'warn'))).toBe('file:warn');
    expect(winner(policy('file', 'allow'), policy('bundle', 'allow'))).toBe('file:allow');
  });

  it('gives the deciding rule of the policy that won', () => {
    const best = evaluateAll([policy('file', 'warn'), policy('bundle', 'deny')], compiledOf, call());
    expect(best?.decision.rule_id).toBe('bundle-rule');
  });
});
