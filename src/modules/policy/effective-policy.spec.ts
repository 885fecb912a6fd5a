import { describe, expect, it } from '@jest/globals';
import { compilePolicy, evaluate, type PolicyDocument } from '../../../libs/policy/src/index.js';
import { EMPTY_POLICY, effectivePolicy, fieldOf, policyProblems } from './effective-policy.js';

const doc = (rules: PolicyDocument['rules'], default_effect?: 'allow' | 'deny'): PolicyDocument => ({
  version: 1,
  ...(default_effect ? { default_effect } : {}),
  rules,
});
const call = (tool: string) => ({ method: 'tools/call', tool, arguments: {} });

describe('effective policy', () => {
  it('is the empty default-allow document when nothing is enabled', () => {
    expect(effectivePolicy([])).toEqual({ version: 1, rules: [] });
    expect(EMPTY_POLICY).toEqual({ version: 1, rules: [] });
  });

  it('renames each rule <policy>/<rule> so ids stay unique and say which policy decided', () => {
    const merged = effectivePolicy([
      { name: 'a', document: doc([{ id: 'shell', effect: 'deny', tools: ['run_shell'] }]), bindings: null },
      { name: 'b', document: doc([{ id: 'shell', effect: 'allow', tools: ['run_shell'] }]), bindings: null },
    ]);
    expect(merged.rules.map((r) => r.id)).toEqual(['a/shell', 'b/shell']);
    const decision = evaluate(compilePolicy(merged), call('run_shell'));
    expect(decision).toMatchObject({ effect: 'deny', rule_id: 'a/shell' }); // deny > allow at equal priority
  });

  it('default effect: most restrictive wins among unbound policies', () => {
    const open = { name: 'open', document: doc([], 'allow'), bindings: null };
    const closed = { name: 'closed', document: doc([], 'deny'), bindings: null };
    expect(effectivePolicy([open]).default_effect).toBeUndefined();
    expect(effectivePolicy([open, closed]).default_effect).toBe('deny');
    expect(evaluate(compilePolicy(effectivePolicy([open, closed])), call('anything')).effect).toBe('deny');
  });

  it("a bound policy's deny default becomes a lowest-priority catch-all, bound like the policy", () => {
    const merged = effectivePolicy([
      {
        name: 'ci-only',
        document: doc([{ id: 'read', effect: 'allow', tools: ['read_file'] }], 'deny'),
        bindings: { agents: ['ci'] },
      },
    ]);
    expect(merged.default_effect).toBeUndefined();
    expect(merged.rules).toEqual([
      { id: 'ci-only/read', effect: 'allow', tools: ['read_file'], bindings: { agents: ['ci'] } },
      expect.objectContaining({
        id: 'ci-only:default',
        effect: 'deny',
        priority: -1_000_000,
        bindings: { agents: ['ci'] },
      }),
    ]);
    const compiled = compilePolicy(merged);
    expect(evaluate(compiled, call('write_file'), { agent: 'ci' })).toMatchObject({
      effect: 'deny',
      rule_id: 'ci-only:default',
    });
    expect(evaluate(compiled, call('read_file'), { agent: 'ci' }).effect).toBe('allow');
    expect(evaluate(compiled, call('write_file'), { agent: 'laptop' }).effect).toBe('allow'); // not bound to it
  });

  it("adds the policy's bindings to each rule, keeping the rule's own other dimensions", () => {
    const merged = effectivePolicy([
      {
        name: 'prod',
        document: doc([{ id: 'x', effect: 'deny', tools: ['deploy'], bindings: { agents: ['ci'] } }]),
        bindings: { environments: ['prod*'] },
      },
    ]);
    expect(merged.rules[0].bindings).toEqual({ agents: ['ci'], environments: ['prod*'] });
    const compiled = compilePolicy(merged);
    expect(evaluate(compiled, call('deploy'), { agent: 'ci', environment: 'prod-eu' }).effect).toBe('deny');
    expect(evaluate(compiled, call('deploy'), { agent: 'ci', environment: 'staging' }).effect).toBe('allow');
  });
});

describe('policyProblems', () => {
  it('accepts a good policy', () => {
    expect(policyProblems('p', doc([{ id: 'x', effect: 'deny', tools: ['a'] }]), { agents: ['ci'] })).toEqual(
      [],
    );
  });

  it('reports compile problems under document., with the rule id', () => {
    const problems = policyProblems(
      'p',
      doc([{ id: 'bad', effect: 'deny', tools: ['/(a+)+$/'] }]),
      undefined,
    );
    expect(problems).toEqual([
      expect.objectContaining({ where: 'document.rules[0] (id "bad"): tools[0]', rule_id: 'bad' }),
    ]);
    expect(fieldOf(problems[0])).toBe('document.rules.0.tools.0');
  });

  it('reports bad bindings by field', () => {
    const problems = policyProblems('p', doc([]), { agents: [], teams: ['x'] });
    expect(problems.map(fieldOf).sort()).toEqual(['bindings', 'bindings.agents']);
  });

  it('refuses a rule binding a dimension its policy binds, and renamed ids over 128 characters', () => {
    const id = 'r'.repeat(126);
    const problems = policyProblems(
      'pol',
      doc([
        { id: 'x', effect: 'deny', bindings: { agents: ['a'] } },
        { id, effect: 'deny' },
      ]),
      { agents: ['ci'] },
    );
    expect(problems.map((p) => [fieldOf(p), p.rule_id])).toEqual([
      ['document.rules.0.bindings.agents', 'x'],
      ['document.rules.1.id', id],
    ]);
  });

  it('refuses lone surrogates (PostgreSQL cannot store them) by location', () => {
    const problems = policyProblems(
      'p',
      doc([{ id: 'x', effect: 'deny', description: 'a\ud800' }]),
      undefined,
    );
    expect(problems.map(fieldOf)).toEqual(['document.rules.0.description']);
  });

  it('names the document itself when it is not an object', () => {
    expect(policyProblems('p', 'nope', undefined).map(fieldOf)).toEqual(['document']);
    expect(policyProblems('p', { rules: [] }, undefined).map(fieldOf)).toEqual(['document.version']);
  });
});
