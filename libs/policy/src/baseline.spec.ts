import { describe, expect, it } from '@jest/globals';
import { BASELINE_POLICY } from './baseline.js';
import { compilePolicy } from './compile.js';
import { evaluate } from './evaluate.js';
import type { PolicyDocument, ToolCall } from './types.js';

const policy = compilePolicy(BASELINE_POLICY);
const tool = (name: string, args: unknown = {}): ToolCall => ({
  method: 'tools/call',
  tool: name,
  arguments: args,
});

describe('BASELINE_POLICY', () => {
  it('compiles and is deep-frozen', () => {
    expect(policy.rules.map((r) => r.id)).toEqual([
      'baseline-secret-paths',
      'baseline-destructive-tools',
      'baseline-execute-tools',
      'baseline-unknown-egress',
    ]);
    expect(Object.isFrozen(BASELINE_POLICY.rules[0])).toBe(true);
    expect(() => {
      (BASELINE_POLICY.rules as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it.each<[string, ToolCall, string, string | null, boolean]>([
    ['an ordinary read', tool('read_file', { path: 'src/index.ts' }), 'allow', null, true],
    [
      'a secret path',
      tool('read_file', { path: '/home/me/.ssh/id_rsa' }),
      'deny',
      'baseline-secret-paths',
      true,
    ],
    [
      'a secret resource',
      { method: 'resources/read', arguments: { uri: 'file:///app/.env' } },
      'deny',
      'baseline-secret-paths',
      true,
    ],
    [
      'a destructive tool',
      tool('delete_branch', { name: 'main' }),
      'deny',
      'baseline-destructive-tools',
      true,
    ],
    [
      'destructive SQL',
      tool('run_query', { sql: 'DROP TABLE users' }),
      'deny',
      'baseline-destructive-tools',
      true,
    ],
    ['an execute tool', tool('execute_command', { command: 'ls' }), 'deny', 'baseline-execute-tools', true],
    [
      'egress, reported not blocked',
      tool('http_get', { url: 'https://example.com' }),
      'warn',
      'baseline-unknown-egress',
      false,
    ],
  ])('%s', (_name, call, effect, ruleId, enforced) => {
    const decision = evaluate(policy, call);
    expect(decision).toMatchObject({ effect, rule_id: ruleId, enforced });
  });

  it('lets an operator open one tool for one agent above the class rules, but not above secret paths', () => {
    const customised = structuredClone(BASELINE_POLICY) as {
      -readonly [K in keyof PolicyDocument]: PolicyDocument[K];
    };
    customised.rules = [
      ...customised.rules,
      { id: 'ci-shell', effect: 'allow', priority: 500, tools: ['run_shell'], bindings: { agents: ['ci'] } },
    ];
    const compiled = compilePolicy(customised);
    expect(evaluate(compiled, tool('run_shell', { command: 'make test' }), { agent: 'ci' }).rule_id).toBe(
      'ci-shell',
    );
    expect(evaluate(compiled, tool('run_shell', { command: 'make test' }), { agent: 'other' }).rule_id).toBe(
      'baseline-execute-tools',
    );
    expect(
      evaluate(compiled, tool('run_shell', { command: 'cat ~/.aws/credentials' }), { agent: 'ci' }).rule_id,
    ).toBe('baseline-secret-paths');
  });
});
