import { deepFreeze } from './freeze.js';
import { LIMITS } from './limits.js';
import { ARGUMENT_OPS, EFFECTS, MODES, TOOL_CLASSES } from './types.js';

const nameList = {
  type: 'array',
  minItems: 1,
  maxItems: LIMITS.maxListEntries,
  items: { type: 'string', minLength: 1, maxLength: LIMITS.maxPatternLength, pattern: '\\S' },
};

const whenOp = (op: string | readonly string[], value: Record<string, unknown>) => ({
  if: { required: ['op'], properties: { op: typeof op === 'string' ? { const: op } : { enum: [...op] } } },
  then: { properties: { value } },
});

/**
 * JSON Schema (draft 2020-12) of `PolicyDocument`, published as `libs/policy/schema/policy.schema.json`.
 * It checks structure (fields, types, enums, sizes); `compilePolicy` additionally checks what a schema cannot:
 * unique ids, regex syntax and backtracking risk, JSONPath syntax, host names, `between` bounds.
 */
export const POLICY_JSON_SCHEMA: Readonly<Record<string, unknown>> = deepFreeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:agent-bom:schema:policy:v1',
  title: 'agent-bom policy document',
  description:
    'Rules deciding MCP calls. Every matcher present in a rule must match; the highest-priority enforce-mode ' +
    'match wins, deny beating allow beating warn at equal priority.',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'rules'],
  properties: {
    version: { const: 1 },
    default_effect: { enum: ['allow', 'deny'], default: 'allow' },
    rules: { type: 'array', maxItems: LIMITS.maxRules, items: { $ref: '#/$defs/rule' } },
  },
  $defs: {
    name_list: nameList,
    rule: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'effect'],
      properties: {
        id: {
          type: 'string',
          minLength: 1,
          maxLength: LIMITS.maxRuleIdLength,
          pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
        },
        description: { type: 'string', maxLength: LIMITS.maxDescriptionLength },
        effect: { enum: [...EFFECTS] },
        priority: { type: 'integer', minimum: -LIMITS.maxPriority, maximum: LIMITS.maxPriority, default: 0 },
        mode: { enum: [...MODES], default: 'enforce' },
        methods: { $ref: '#/$defs/name_list', description: 'MCP methods, exact or glob' },
        tools: { $ref: '#/$defs/name_list', description: 'Tool names: exact, glob, or /regex/flags' },
        arguments: {
          type: 'array',
          minItems: 1,
          maxItems: LIMITS.maxListEntries,
          items: { $ref: '#/$defs/argument_condition' },
        },
        tool_classes: { type: 'array', minItems: 1, items: { enum: [...TOOL_CLASSES] } },
        secret_paths: { const: true },
        egress: {
          type: 'object',
          additionalProperties: false,
          required: ['allow_hosts'],
          properties: {
            allow_hosts: {
              type: 'array',
              maxItems: LIMITS.maxListEntries,
              items: { type: 'string', minLength: 1, maxLength: LIMITS.maxPatternLength },
            },
          },
        },
        bindings: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            agents: { $ref: '#/$defs/name_list' },
            clients: { $ref: '#/$defs/name_list' },
            environments: { $ref: '#/$defs/name_list' },
            upstreams: { $ref: '#/$defs/name_list' },
          },
        },
      },
    },
    argument_condition: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'op', 'value'],
      properties: {
        path: { type: 'string', minLength: 1, maxLength: LIMITS.maxPatternLength, pattern: '^\\$' },
        op: { enum: [...ARGUMENT_OPS] },
        value: {},
      },
      allOf: [
        whenOp('exists', { type: 'boolean' }),
        whenOp('in', { type: 'array', minItems: 1 }),
        whenOp('regex', {
          type: 'string',
          maxLength: LIMITS.maxPatternLength,
          pattern: '^/[\\s\\S]+/[imsu]*$',
        }),
        whenOp(['gt', 'gte', 'lt', 'lte'], { type: 'number' }),
        whenOp('between', { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } }),
      ],
    },
  },
});
