import { describe, expect, it } from '@jest/globals';
import { compilePolicy } from './compile.js';
import { PolicyCompileError } from './errors.js';

function problemsOf(document: unknown): string[] {
  try {
    compilePolicy(document);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyCompileError);
    return (error as PolicyCompileError).problems.map((p) => `${p.where}: ${p.message}`);
  }
  throw new Error('expected the document to be rejected');
}

const withRule = (rule: Record<string, unknown>) => ({
  version: 1,
  rules: [
    { id: 'ok', effect: 'allow' },
    { id: 'no-shell', effect: 'deny', ...rule },
  ],
});

describe('compilePolicy rejects', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a non-object document', [], /^\(document\): must be a JSON object/],
    ['a missing version', { rules: [] }, /^version: is required and must be 1/],
    ['version 2', { version: 2, rules: [] }, /^version: /],
    [
      'a bad default_effect',
      { version: 1, default_effect: 'warn', rules: [] },
      /^default_effect: must be "allow" or "deny"/,
    ],
    ['missing rules', { version: 1 }, /^rules: is required/],
    ['unknown top-level field', { version: 1, rules: [], rule: [] }, /^\(document\): unknown field "rule"/],
    ['unknown rule field', withRule({ tool: 'x' }), /^rules\[1\] \(id "no-shell"\): unknown field "tool"/],
    [
      'unknown argument-condition field',
      withRule({ arguments: [{ path: '$.x', op: 'equals', value: 1, negate: true }] }),
      /^rules\[1\] \(id "no-shell"\): arguments\[0\]: unknown field "negate"/,
    ],
    [
      'unknown egress field',
      withRule({ egress: { allow_hosts: [], block_hosts: [] } }),
      /^rules\[1\] \(id "no-shell"\): egress: unknown field "block_hosts"/,
    ],
    [
      'unknown binding dimension',
      withRule({ bindings: { agent: ['x'] } }),
      /^rules\[1\] \(id "no-shell"\): bindings: unknown field "agent"/,
    ],
    [
      'a bad regex',
      withRule({ tools: ['ok', '/(unclosed/'] }),
      /^rules\[1\] \(id "no-shell"\): tools\[1\]: invalid regex \/\(unclosed\/: /,
    ],
    [
      'a nested quantifier',
      withRule({ tools: ['/^(a+)+$/'] }),
      /^rules\[1\] \(id "no-shell"\): tools\[0\]: .*catastrophic backtracking: nested quantifier/,
    ],
    ['(.*)*', withRule({ tools: ['/(.*)*x/'] }), /tools\[0\]: .*catastrophic backtracking/],
    ['(a|a)*', withRule({ tools: ['/(a|a)*b/'] }), /tools\[0\]: .*alternatives that can match the same text/],
    [
      'a catastrophic argument regex',
      withRule({ arguments: [{ path: '$.q', op: 'regex', value: '/^(\\w+\\s?)*$/' }] }),
      /^rules\[1\] \(id "no-shell"\): arguments\[0\]\.value: .*catastrophic backtracking/,
    ],
    [
      'the g flag',
      withRule({ tools: ['/x/g'] }),
      /tools\[0\]: invalid regex \/x\/g: flags must be a subset of "imsu"/,
    ],
    [
      'a regex without slashes for op regex',
      withRule({ arguments: [{ path: '$.q', op: 'regex', value: 'x+' }] }),
      /arguments\[0\]\.value: invalid regex x\+/,
    ],
    [
      'an over-long pattern',
      withRule({ tools: [`/${'a'.repeat(1200)}/`] }),
      /tools\[0\]: pattern is 1202 characters, more than the limit of 1000/,
    ],
    ['an over-long glob', withRule({ tools: ['a'.repeat(1001)] }), /tools\[0\]: pattern is 1001 characters/],
    [
      'a pattern of invisible characters',
      withRule({ tools: ['\u200b\u200c'] }),
      /tools\[0\]: .*normalises to an empty name/,
    ],
    [
      'duplicate ids',
      {
        version: 1,
        rules: [
          { id: 'a', effect: 'deny' },
          { id: 'a', effect: 'allow' },
        ],
      },
      /^rules\[1\] \(id "a"\): id: duplicates the id of rules\[0\]/,
    ],
    ['a missing id', { version: 1, rules: [{ effect: 'deny' }] }, /^rules\[0\]: id: is required/],
    [
      'a malformed id',
      { version: 1, rules: [{ id: 'has space', effect: 'deny' }] },
      /^rules\[0\] \(id "has space"\): id: must be/,
    ],
    ['a missing effect', { version: 1, rules: [{ id: 'x' }] }, /^rules\[0\] \(id "x"\): effect: is required/],
    ['effect block', withRule({ effect: 'block' }), /^rules\[1\] \(id "no-shell"\): effect: /],
    [
      'a fractional priority',
      withRule({ priority: 1.5 }),
      /^rules\[1\] \(id "no-shell"\): priority: must be an integer/,
    ],
    ['a string priority', withRule({ priority: '10' }), /priority: must be an integer/],
    ['a huge priority', withRule({ priority: 1e9 }), /priority: must be an integer between/],
    [
      'an unknown mode',
      withRule({ mode: 'dry_run' }),
      /^rules\[1\] \(id "no-shell"\): mode: must be one of enforce, audit/,
    ],
    [
      'tools as a string',
      withRule({ tools: 'run_shell' }),
      /^rules\[1\] \(id "no-shell"\): tools: must be an array of strings/,
    ],
    ['an empty tools list', withRule({ tools: [] }), /tools: must not be empty/],
    ['a non-string tool', withRule({ tools: ['x', 5] }), /tools\[1\]: must be a non-empty string/],
    [
      'methods as a string',
      withRule({ methods: 'tools/call' }),
      /^rules\[1\] \(id "no-shell"\): methods: must be an array/,
    ],
    [
      'an unknown tool class',
      withRule({ tool_classes: ['admin'] }),
      /^rules\[1\] \(id "no-shell"\): tool_classes\[0\]: unknown class "admin"/,
    ],
    [
      'secret_paths false',
      withRule({ secret_paths: false }),
      /^rules\[1\] \(id "no-shell"\): secret_paths: must be true/,
    ],
    [
      'egress without allow_hosts',
      withRule({ egress: {} }),
      /^rules\[1\] \(id "no-shell"\): egress\.allow_hosts: is required/,
    ],
    [
      'an allow_hosts URL',
      withRule({ egress: { allow_hosts: ['https://x.com'] } }),
      /egress\.allow_hosts\[0\]: "https:\/\/x\.com" is not a host name/,
    ],
    [
      'an allow_hosts path',
      withRule({ egress: { allow_hosts: ['x.com/api'] } }),
      /egress\.allow_hosts\[0\]: /,
    ],
    [
      'empty bindings',
      withRule({ bindings: {} }),
      /^rules\[1\] \(id "no-shell"\): bindings: must bind at least one/,
    ],
    [
      'a binding as a string',
      withRule({ bindings: { agents: 'ci' } }),
      /bindings\.agents: must be an array of strings/,
    ],
    [
      'an unknown op',
      withRule({ arguments: [{ path: '$.x', op: 'matches', value: 'x' }] }),
      /arguments\[0\]\.op: must be one of equals, in/,
    ],
    [
      'a bad JSONPath',
      withRule({ arguments: [{ path: 'x.y', op: 'exists', value: true }] }),
      /arguments\[0\]\.path: invalid JSONPath "x\.y": must start with "\$"/,
    ],
    [
      'an unterminated JSONPath',
      withRule({ arguments: [{ path: "$['x", op: 'exists', value: true }] }),
      /arguments\[0\]\.path: invalid JSONPath/,
    ],
    [
      'a missing value',
      withRule({ arguments: [{ path: '$.x', op: 'equals' }] }),
      /arguments\[0\]\.value: is required/,
    ],
    [
      'exists with a string',
      withRule({ arguments: [{ path: '$.x', op: 'exists', value: 'yes' }] }),
      /arguments\[0\]\.value: must be true or false/,
    ],
    [
      'gt with a string',
      withRule({ arguments: [{ path: '$.x', op: 'gt', value: '5' }] }),
      /arguments\[0\]\.value: must be a number for op "gt"/,
    ],
    [
      'between reversed',
      withRule({ arguments: [{ path: '$.x', op: 'between', value: [5, 1] }] }),
      /arguments\[0\]\.value: min 5 is greater than max 1/,
    ],
    [
      'between with one bound',
      withRule({ arguments: [{ path: '$.x', op: 'between', value: [5] }] }),
      /must be \[min, max\]/,
    ],
    [
      'in with a scalar',
      withRule({ arguments: [{ path: '$.x', op: 'in', value: 'a' }] }),
      /arguments\[0\]\.value: must be a non-empty array/,
    ],
    [
      'an empty arguments list',
      withRule({ arguments: [] }),
      /^rules\[1\] \(id "no-shell"\): arguments: must be a non-empty array/,
    ],
    ['a rule that is not an object', { version: 1, rules: ['deny all'] }, /^rules\[0\]: must be an object/],
  ];
  it.each(cases)('%s', (_name, document, expected) => {
    const problems = problemsOf(document);
    const problem = problems.find((p) => expected.test(p));
    expect(problem).toBeDefined();
    // Every problem inside the rule under test names its index, its id and the offending field.
    if ((document as { rules?: Array<{ id?: unknown }> }).rules?.[1]?.id === 'no-shell') {
      expect(problem).toMatch(/^rules\[1\] \(id "no-shell"\): \S/);
    }
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf({
      version: 1,
      extra: true,
      rules: [
        { id: 'a', effect: 'deny', tools: ['/(/'], mode: 'x' },
        { id: 'b', effect: 'nope', tool_classes: ['admin'] },
      ],
    });
    expect(problems).toHaveLength(5);
    const error = (() => {
      try {
        compilePolicy({ version: 1, rules: [{ id: 'a', effect: 'deny', tools: ['/(/'] }] });
      } catch (e) {
        return e as PolicyCompileError;
      }
    })();
    expect(error?.message).toMatch(
      /^invalid policy \(1 problem\):\n {2}- rules\[0\] \(id "a"\): tools\[0\]: invalid regex/,
    );
    expect(error?.problems[0].rule_id).toBe('a');
  });
});

describe('compilePolicy accepts', () => {
  it('every field of the language at once', () => {
    const policy = compilePolicy({
      version: 1,
      default_effect: 'deny',
      rules: [
        {
          id: 'everything',
          description: 'uses every matcher',
          effect: 'warn',
          priority: -3,
          mode: 'audit',
          methods: ['tools/call', 'resources/*'],
          tools: ['read_file', 'fs_*', '/^git_/'],
          arguments: [{ path: '$.options.files[*]', op: 'regex', value: '/\\.pem$/i' }],
          tool_classes: ['read', 'filesystem'],
          secret_paths: true,
          egress: {
            allow_hosts: ['github.com', '*.githubusercontent.com', '10.0.0.1', '[::1]', 'bücher.example'],
          },
          bindings: { agents: ['ci-*'], clients: ['cursor'], environments: ['prod'], upstreams: ['github'] },
        },
      ],
    });
    expect(policy.defaultEffect).toBe('deny');
    expect(policy.rules).toHaveLength(1);
  });

  it('safe regexes the heuristic must not refuse', () => {
    for (const pattern of [
      '/^(?:foo|bar)+$/',
      '/^[a-z]+(?:_[a-z]+)*$/',
      '/(\\d{3}-)+/',
      '/^(ab){2}$/',
      '/a+b+c+/',
    ]) {
      expect(() =>
        compilePolicy({ version: 1, rules: [{ id: 'r', effect: 'deny', tools: [pattern] }] }),
      ).not.toThrow();
    }
  });

  it('keeps a frozen copy of the document, untouched by later edits of the original', () => {
    const document = { version: 1 as const, rules: [{ id: 'r', effect: 'deny' as const, tools: ['x'] }] };
    const policy = compilePolicy(document);
    document.rules[0].tools[0] = 'y';
    expect(policy.document.rules[0].tools).toEqual(['x']);
    expect(Object.isFrozen(policy.document.rules[0])).toBe(true);
  });
});
