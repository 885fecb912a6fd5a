import { describe, expect, it } from '@jest/globals';
import { call, decide } from './spec-support.js';
import { compilePolicy } from './compile.js';
import { evaluate } from './evaluate.js';
import type { EvaluationContext, PolicyRule } from './types.js';

describe('bindings', () => {
  const bound = (bindings: PolicyRule['bindings']): PolicyRule[] => [
    { id: 'bound', effect: 'deny', bindings },
  ];
  const cases: Array<[string, PolicyRule['bindings'], EvaluationContext, boolean]> = [
    ['agent matches', { agents: ['builder'] }, { agent: 'builder' }, true],
    ['other agent', { agents: ['builder'] }, { agent: 'reviewer' }, false],
    ['missing agent never matches', { agents: ['builder'] }, {}, false],
    ['agent glob', { agents: ['ci-*'] }, { agent: 'ci-42' }, true],
    ['agent is compared normalised', { agents: ['builder'] }, { agent: 'BUILDER' }, true],
    ['client matches', { clients: ['cursor'] }, { client: 'cursor' }, true],
    ['other client', { clients: ['cursor'] }, { client: 'claude-desktop' }, false],
    ['environment matches', { environments: ['prod*'] }, { environment: 'production' }, true],
    ['other environment', { environments: ['prod*'] }, { environment: 'staging' }, false],
    ['upstream matches', { upstreams: ['github'] }, { upstream: 'github' }, true],
    ['other upstream', { upstreams: ['github'] }, { upstream: 'jira' }, false],
    [
      'all dimensions must match',
      { agents: ['builder'], environments: ['prod'] },
      { agent: 'builder', environment: 'staging' },
      false,
    ],
    [
      'all dimensions match',
      { agents: ['builder'], environments: ['prod'] },
      { agent: 'builder', environment: 'prod', client: 'x' },
      true,
    ],
  ];
  it.each(cases)('%s', (_name, bindings, context, expected) => {
    const decision = decide(bound(bindings), call(), context);
    expect(decision.effect).toBe(expected ? 'deny' : 'allow');
    if (!expected)
      expect(decision.path.some((line) => line.includes('skipped') && line.includes('bindings'))).toBe(true);
  });

  it('a bound allow opens a tool only for that agent', () => {
    const rules: PolicyRule[] = [
      { id: 'deny-shell', effect: 'deny', tools: ['run_shell'] },
      {
        id: 'ci-may-shell',
        effect: 'allow',
        priority: 10,
        tools: ['run_shell'],
        bindings: { agents: ['ci'] },
      },
    ];
    expect(decide(rules, call({ tool: 'run_shell' }), { agent: 'ci' }).rule_id).toBe('ci-may-shell');
    expect(decide(rules, call({ tool: 'run_shell' }), { agent: 'intern' }).rule_id).toBe('deny-shell');
    expect(decide(rules, call({ tool: 'run_shell' }), {}).rule_id).toBe('deny-shell');
  });

  it('a disguised agent name never satisfies an allow binding', () => {
    const rules: PolicyRule[] = [{ id: 'a', effect: 'allow', bindings: { agents: ['ci'] } }];
    expect(decide(rules, call(), { agent: 'сi' }, 'deny').effect).toBe('deny'); // Cyrillic с
    expect(decide(rules, call(), { agent: 'ci' }, 'deny').effect).toBe('allow');
  });

  it('re-checks bindings for every context on one compiled policy (no stale memo)', () => {
    const policy = compilePolicy({
      version: 1,
      rules: [
        { id: 'prod-github', effect: 'deny', bindings: { environments: ['prod'], upstreams: ['github'] } },
        { id: 'any-agent', effect: 'warn', bindings: { agents: ['*'] } },
      ],
    });
    const sequence: Array<[EvaluationContext, string | null]> = [
      [{ agent: 'a', client: 'c', environment: 'prod', upstream: 'github' }, 'prod-github'],
      [{ agent: 'a', client: 'c', environment: 'dev', upstream: 'github' }, 'any-agent'],
      [{ agent: 'a', client: 'c', environment: 'prod', upstream: 'jira' }, 'any-agent'],
      [{ agent: 'a', client: 'c', environment: 'prod', upstream: 'github' }, 'prod-github'],
      [{ client: 'c', environment: 'dev' }, null],
      [{ agent: '\u0000', client: 'c', environment: 'dev' }, 'any-agent'],
      [{ client: 'c', environment: 'dev' }, null],
    ];
    for (const [context, ruleId] of sequence) {
      expect(evaluate(policy, call(), context).rule_id).toBe(ruleId);
    }
  });
});
