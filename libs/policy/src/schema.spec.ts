import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BASELINE_POLICY } from './baseline.js';
import { BINDING_FIELDS, CONDITION_FIELDS, EGRESS_FIELDS, RULE_FIELDS } from './matchers.js';
import { DOCUMENT_FIELDS, compilePolicy } from './compile.js';
import { POLICY_JSON_SCHEMA } from './schema.js';
import { ARGUMENT_OPS, EFFECTS, MODES, TOOL_CLASSES, type PolicyRule } from './types.js';

type Schema = Record<string, unknown>;
const schema = POLICY_JSON_SCHEMA as Schema;
const defs = schema.$defs as Record<string, Schema>;
const propertiesOf = (s: Schema) => Object.keys(s.properties as Schema);

/**
 * A small JSON Schema validator for exactly the keywords this schema uses. The test below fails if the schema
 * ever uses a keyword this validator does not implement, so it can never pass by ignoring one.
 */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', '$defs']);
const ASSERTIONS = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minProperties',
  'allOf',
  'if',
  'then',
  '$ref',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function validate(s: Schema, value: unknown, at = '$'): string[] {
  if (s.$ref) return validate(defs[(s.$ref as string).replace('#/$defs/', '')], value, at);
  const errors: string[] = [];
  const fail = (message: string) => errors.push(`${at}: ${message}`);
  const type = typeOf(value);
  if (s.type !== undefined && s.type !== type && !(s.type === 'number' && type === 'integer'))
    fail(`not ${s.type}`);
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) fail('const');
  if (s.enum && !(s.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))) fail('enum');
  if (type === 'string') {
    const text = value as string;
    if (s.minLength !== undefined && text.length < (s.minLength as number)) fail('minLength');
    if (s.maxLength !== undefined && text.length > (s.maxLength as number)) fail('maxLength');
    if (s.pattern !== undefined && !new RegExp(s.pattern as string, 'u').test(text)) fail('pattern');
  }
  if (type === 'number' || type === 'integer') {
    if (s.minimum !== undefined && (value as number) < (s.minimum as number)) fail('minimum');
    if (s.maximum !== undefined && (value as number) > (s.maximum as number)) fail('maximum');
  }
  if (type === 'array') {
    const list = value as unknown[];
    if (s.minItems !== undefined && list.length < (s.minItems as number)) fail('minItems');
    if (s.maxItems !== undefined && list.length > (s.maxItems as number)) fail('maxItems');
    if (s.items) list.forEach((item, i) => errors.push(...validate(s.items as Schema, item, `${at}[${i}]`)));
  }
  if (type === 'object') {
    const record = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required ?? []) as string[]) if (!(key in record)) fail(`missing ${key}`);
    if (s.minProperties !== undefined && Object.keys(record).length < (s.minProperties as number))
      fail('minProperties');
    for (const [key, item] of Object.entries(record)) {
      if (properties[key]) errors.push(...validate(properties[key], item, `${at}.${key}`));
      else if (s.additionalProperties === false) fail(`additional property ${key}`);
    }
  }
  for (const sub of (s.allOf ?? []) as Schema[]) errors.push(...validate(sub, value, at));
  if (s.if && validate(s.if as Schema, value, at).length === 0 && s.then)
    errors.push(...validate(s.then as Schema, value, at));
  return errors;
}

function compiles(document: unknown): boolean {
  try {
    compilePolicy(document);
    return true;
  } catch {
    return false;
  }
}

const doc = (rule: Record<string, unknown>) => ({
  version: 1,
  rules: [{ id: 'r', effect: 'deny', ...rule }],
});

/** One valid sample per rule field. Typed by PolicyRule, so a new field cannot be added without a sample. */
const RULE_SAMPLES: Required<{ [K in keyof PolicyRule]: PolicyRule[K] }> = {
  id: 'sample-rule',
  description: 'a sample',
  effect: 'warn',
  priority: 5,
  mode: 'audit',
  methods: ['tools/call'],
  tools: ['read_file', 'fs_*', '/^git_/'],
  arguments: [{ path: '$.a[*]', op: 'between', value: [1, 2] }],
  tool_classes: ['network'],
  secret_paths: true,
  egress: { allow_hosts: ['example.com'] },
  bindings: { agents: ['a'], clients: ['c'], environments: ['e'], upstreams: ['u'] },
};

describe('POLICY_JSON_SCHEMA', () => {
  it('is what libs/policy/schema/policy.schema.json publishes', () => {
    const published = JSON.parse(
      readFileSync(new URL('../schema/policy.schema.json', import.meta.url), 'utf8'),
    );
    // On failure, regenerate: npx tsc -p tsconfig.build.json && node --input-type=module -e "import {POLICY_JSON_SCHEMA as s} from './dist/libs/policy/src/index.js'; import {writeFileSync} from 'node:fs'; writeFileSync('libs/policy/schema/policy.schema.json', JSON.stringify(s, null, 2) + '\n')"
    expect(published).toEqual(POLICY_JSON_SCHEMA);
  });

  it('uses only keywords the test validator implements', () => {
    const unknown: string[] = [];
    const walk = (s: unknown, inProperties = false): void => {
      if (typeof s !== 'object' || s === null || Array.isArray(s)) return;
      for (const [key, child] of Object.entries(s)) {
        if (!inProperties && !ANNOTATIONS.has(key) && !ASSERTIONS.has(key)) unknown.push(key);
        if (key === 'properties' || key === '$defs') Object.values(child as Schema).forEach((c) => walk(c));
        else if (key === 'allOf') (child as unknown[]).forEach((c) => walk(c));
        else if (!inProperties) walk(child, false);
      }
    };
    walk(schema);
    expect(unknown).toEqual([]);
  });

  it('names exactly the fields the compiler accepts, at every level', () => {
    expect(propertiesOf(schema).sort()).toEqual([...DOCUMENT_FIELDS].sort());
    expect(propertiesOf(defs.rule).sort()).toEqual([...RULE_FIELDS].sort());
    expect(propertiesOf(defs.argument_condition).sort()).toEqual([...CONDITION_FIELDS].sort());
    const ruleProperties = defs.rule.properties as Record<string, Schema>;
    expect(propertiesOf(ruleProperties.egress).sort()).toEqual([...EGRESS_FIELDS].sort());
    expect(propertiesOf(ruleProperties.bindings).sort()).toEqual([...BINDING_FIELDS].sort());
    expect(Object.keys(RULE_SAMPLES).sort()).toEqual([...RULE_FIELDS].sort());
  });

  it('uses the same enums as the types', () => {
    const rule = defs.rule.properties as Record<string, Schema>;
    expect(rule.effect.enum).toEqual([...EFFECTS]);
    expect(rule.mode.enum).toEqual([...MODES]);
    expect((rule.tool_classes.items as Schema).enum).toEqual([...TOOL_CLASSES]);
    expect((defs.argument_condition.properties as Record<string, Schema>).op.enum).toEqual([...ARGUMENT_OPS]);
  });

  it.each(Object.entries(RULE_SAMPLES))(
    'accepts rule field %s in both the schema and the compiler',
    (field, value) => {
      const document = field === 'id' ? doc({ id: value }) : doc({ [field]: value });
      expect(validate(schema, document)).toEqual([]);
      expect(compiles(document)).toBe(true);
    },
  );

  it('accepts a rule using every field at once, and the baseline pack', () => {
    for (const document of [{ version: 1, default_effect: 'deny', rules: [RULE_SAMPLES] }, BASELINE_POLICY]) {
      expect(validate(schema, document)).toEqual([]);
      expect(compiles(document)).toBe(true);
    }
  });

  const structurallyInvalid: Array<[string, unknown]> = [
    ['missing version', { rules: [] }],
    ['wrong version', { version: 2, rules: [] }],
    ['unknown top-level field', { version: 1, rules: [], x: 1 }],
    ['bad default_effect', { version: 1, default_effect: 'warn', rules: [] }],
    ['unknown rule field', doc({ x: 1 })],
    ['missing effect', { version: 1, rules: [{ id: 'r' }] }],
    ['missing id', { version: 1, rules: [{ effect: 'deny' }] }],
    ['bad id', doc({ id: '-x' })],
    ['bad effect', doc({ effect: 'block' })],
    ['fractional priority', doc({ priority: 0.5 })],
    ['priority out of range', doc({ priority: 2_000_000 })],
    ['bad mode', doc({ mode: 'dry_run' })],
    ['tools not an array', doc({ tools: 'x' })],
    ['empty tools', doc({ tools: [] })],
    ['blank tool', doc({ tools: ['  '] })],
    ['over-long tool pattern', doc({ tools: ['x'.repeat(1001)] })],
    ['empty methods', doc({ methods: [] })],
    ['unknown class', doc({ tool_classes: ['admin'] })],
    ['secret_paths false', doc({ secret_paths: false })],
    ['egress without allow_hosts', doc({ egress: {} })],
    ['unknown egress field', doc({ egress: { allow_hosts: [], deny_hosts: [] } })],
    ['empty bindings', doc({ bindings: {} })],
    ['unknown binding field', doc({ bindings: { teams: ['x'] } })],
    ['empty arguments', doc({ arguments: [] })],
    ['unknown condition field', doc({ arguments: [{ path: '$.a', op: 'equals', value: 1, not: true }] })],
    ['missing value', doc({ arguments: [{ path: '$.a', op: 'equals' }] })],
    ['bad op', doc({ arguments: [{ path: '$.a', op: 'like', value: 1 }] })],
    ['path without $', doc({ arguments: [{ path: 'a', op: 'exists', value: true }] })],
    ['exists with a string', doc({ arguments: [{ path: '$.a', op: 'exists', value: 'yes' }] })],
    ['gt with a string', doc({ arguments: [{ path: '$.a', op: 'gt', value: '1' }] })],
    ['in with a scalar', doc({ arguments: [{ path: '$.a', op: 'in', value: 1 }] })],
    ['between with one number', doc({ arguments: [{ path: '$.a', op: 'between', value: [1] }] })],
    ['regex without slashes', doc({ arguments: [{ path: '$.a', op: 'regex', value: 'x' }] })],
  ];
  it.each(structurallyInvalid)('both reject: %s', (_name, document) => {
    expect(validate(schema, document)).not.toEqual([]);
    expect(compiles(document)).toBe(false);
  });

  const semanticallyInvalid: Array<[string, unknown]> = [
    [
      'duplicate ids',
      {
        version: 1,
        rules: [
          { id: 'a', effect: 'deny' },
          { id: 'a', effect: 'deny' },
        ],
      },
    ],
    ['bad regex', doc({ tools: ['/(/'] })],
    ['catastrophic regex', doc({ tools: ['/(a+)+/'] })],
    ['bad JSONPath', doc({ arguments: [{ path: '$.', op: 'exists', value: true }] })],
    ['reversed between', doc({ arguments: [{ path: '$.a', op: 'between', value: [2, 1] }] })],
    ['bad host', doc({ egress: { allow_hosts: ['https://x.com/'] } })],
  ];
  it.each(semanticallyInvalid)('only the compiler can reject: %s', (_name, document) => {
    expect(validate(schema, document)).toEqual([]);
    expect(compiles(document)).toBe(false);
  });
});
