import { describe, expect, it } from '@jest/globals';
import { call, decide } from './spec-support.js';
import { compilePolicy } from './compile.js';
import { evaluate } from './evaluate.js';
import type { ArgumentCondition, EvaluationContext, PolicyRule, ToolCall } from './types.js';

describe('malformed calls and limits', () => {
  const rules: PolicyRule[] = [{ id: 'a', effect: 'allow' }];
  const cases: Array<[string, unknown, unknown]> = [
    ['no method', { tool: 'x' }, {}],
    ['method not a string', { method: 5 }, {}],
    ['oversized method', { method: 'x'.repeat(300) }, {}],
    ['oversized tool name', { method: 'tools/call', tool: 'a'.repeat(2000) }, {}],
    ['tool not a string', { method: 'tools/call', tool: ['x'] }, {}],
    ['context value not a string', { method: 'tools/call', tool: 'x' }, { agent: 7 }],
  ];
  it.each(cases)('denies %s', (_name, toolCall, context) => {
    const decision = decide(rules, toolCall as ToolCall, context as EvaluationContext);
    expect(decision).toMatchObject({ effect: 'deny', enforced: true, rule_id: null });
    expect(decision.reason).toMatch(/^malformed call/);
  });

  const secretRule: PolicyRule[] = [{ id: 'secrets', effect: 'deny', secret_paths: true }];
  const deep = (levels: number): unknown => (levels === 0 ? '~/.ssh/id_rsa' : { x: deep(levels - 1) });

  it('denies when arguments nest beyond the limit and a deny rule needs them', () => {
    const decision = decide(secretRule, call({ arguments: deep(200) }));
    expect(decision).toMatchObject({ effect: 'deny', rule_id: 'secrets' });
    expect(decision.reason).toMatch(/nest deeper than 64.*fail closed/);
  });

  it('finds a secret three levels deep in an array', () => {
    const decision = decide(
      secretRule,
      call({ arguments: { batch: [{ ops: [{ src: '/root/.ssh/id_ed25519' }] }] } }),
    );
    expect(decision.rule_id).toBe('secrets');
    expect(decision.reason).toContain('$.batch[0].ops[0].src');
  });

  it('denies an oversized single-line string when a deny rule must inspect it', () => {
    const decision = decide(secretRule, call({ arguments: { path: 'a'.repeat(150_000) } }));
    expect(decision).toMatchObject({ effect: 'deny', rule_id: 'secrets' });
    expect(decision.reason).toContain('150000 characters');
  });

  it('does not read large multi-line payloads such as file contents', () => {
    const content = 'see .env and ~/.ssh/id_rsa\n'.repeat(10_000);
    expect(
      decide(secretRule, call({ tool: 'write_file', arguments: { path: 'README.md', content } })).effect,
    ).toBe('allow');
  });

  it('reads multi-line strings under command keys', () => {
    const command = 'echo hi\ncat ~/.ssh/id_rsa';
    expect(decide(secretRule, call({ tool: 'helper', arguments: { command } })).effect).toBe('deny');
  });

  it('reads every string of a tool that executes code', () => {
    const input = 'echo hi\ncat ~/.ssh/id_rsa';
    expect(decide(secretRule, call({ tool: 'run_python', arguments: { input } })).effect).toBe('deny');
  });

  it('an allow rule never matches arguments it cannot inspect', () => {
    const rules: PolicyRule[] = [{ id: 'a', effect: 'allow', egress: { allow_hosts: [] } }];
    const decision = decide(rules, call({ arguments: { nested: deep(100) } }), {}, 'deny');
    expect(decision).toMatchObject({ effect: 'deny', rule_id: null });
    expect(decision.path.join('\n')).toContain('never matches what it cannot inspect');
  });

  it('treats a regex over an over-long string as indeterminate: deny matches, allow does not', () => {
    const condition: ArgumentCondition = { path: '$.q', op: 'regex', value: '/x/' };
    const args = { q: 'y'.repeat(20_000) };
    expect(
      decide([{ id: 'd', effect: 'deny', arguments: [condition] }], call({ arguments: args })).effect,
    ).toBe('deny');
    expect(
      decide([{ id: 'a', effect: 'allow', arguments: [condition] }], call({ arguments: args }), {}, 'deny')
        .rule_id,
    ).toBe(null);
  });

  it('stays fast on hostile input', () => {
    const policy = compilePolicy({
      version: 1,
      rules: [
        { id: 's', effect: 'deny', secret_paths: true },
        { id: 'e', effect: 'deny', mode: 'audit', egress: { allow_hosts: ['a.com'] } },
        { id: 'r', effect: 'deny', arguments: [{ path: '$..*', op: 'regex', value: '/^a+b$/' }] },
      ],
    });
    const wide = {
      items: Array.from({ length: 50_000 }, (_, i) => `https://h${i}.example/ ${'a'.repeat(50)}`),
    };
    const started = process.cpuUsage(); // CPU, not wall time: a loaded machine stretches wall time of linear work
    const decision = evaluate(policy, call({ arguments: wide }));
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(2_000);
    expect(decision.effect).toBe('deny');
  });
});

describe('decision shape', () => {
  it('explains itself: candidates, each rule considered, the outcome', () => {
    const decision = decide([
      { id: 'shell', effect: 'deny', tools: ['run_shell'] },
      { id: 'prod-only', effect: 'deny', bindings: { environments: ['prod'] } },
      { id: 'reads', effect: 'warn', tool_classes: ['read'] },
    ]);
    expect(decision.path[0]).toMatch(/candidates: 2 of 3 rules .* 1 by tools/);
    expect(decision.path).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/rule "prod-only" .*skipped, environment does not match/),
        expect.stringMatching(/rule "reads" .*matched/),
        'decision: warn',
      ]),
    );
    expect(decision.reason).toContain('flagged by rule "reads"');
  });

  it('is plain JSON', () => {
    const decision = decide(
      [{ id: 'd', effect: 'deny', secret_paths: true }],
      call({ arguments: { p: '.env' } }),
    );
    expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
  });

  it('gives the same answer from the memo as on first sight', () => {
    const policy = compilePolicy({ version: 1, rules: [{ id: 'd', effect: 'deny', tools: ['fs_*'] }] });
    const first = evaluate(policy, call({ tool: 'fs_rm' }));
    const second = evaluate(policy, call({ tool: 'fs_rm' }));
    expect(second).toEqual(first);
    for (let i = 0; i < 10_000; i++) evaluate(policy, call({ tool: `spray_${i}` }));
    expect(evaluate(policy, call({ tool: 'fs_rm' }))).toEqual(first);
  });
});
