import { describe, expect, it } from '@jest/globals';
import { Ajv, type ErrorObject } from 'ajv';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { CHART, EXAMPLES, EXAMPLES_DIR, RenderError, render, type Loose } from './chart.js';

/**
 * values.schema.json: complete (every value in values.yaml typed and described), accepts the defaults and every
 * example, and refuses bad values with a message naming the value — as `helm install` does before rendering.
 * The rules the schema cannot hold alone are also enforced by the templates (`fail`), so the chart refuses
 * them even where the schema is not checked.
 */

type Values = Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as Loose;
const defaults = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Values;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** helm's coalescing of user values over the defaults: maps merge, null deletes, anything else replaces. */
function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isMap(out[key]) && isMap(value)) out[key] = merge(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The refusal as helm words it: one line per problem, naming the value. */
function problems(values: Values): string[] {
  if (validate(values)) return [];
  return (validate.errors as ErrorObject[])
    .filter((e) => !['if', 'anyOf', 'allOf'].includes(e.keyword))
    .map((e) => `${e.instancePath || '(root)'}: ${e.message}`);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-bom-values-'));
let n = 0;
/** Renders with an override; returns the template's refusal, or '' when it rendered. */
function renderRefusal(override: Values): string {
  const file = path.join(dir, `v${n++}.yaml`);
  writeFileSync(file, stringify(override));
  try {
    render([file]);
    return '';
  } catch (error) {
    if (error instanceof RenderError) return error.message;
    throw error;
  }
}

describe('values.schema.json', () => {
  it('types and describes every value of values.yaml', () => {
    const missing: string[] = [];
    const walk = (value: unknown, node: Loose | undefined, at: string) => {
      if (!node) return missing.push(`${at}: not in the schema`);
      if (!node.description) missing.push(`${at}: no description`);
      if (!node.type && !node.anyOf && !node.const) missing.push(`${at}: no type`);
      if (isMap(value) && node.properties) {
        for (const [key, child] of Object.entries(value)) walk(child, node.properties[key], `${at}.${key}`);
      }
    };
    for (const [key, value] of Object.entries(defaults)) walk(value, schema.properties[key], key);
    expect(missing).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
  });

  it('no value can carry a credential: every credential-named value is the name or key of an existing Secret', () => {
    const offenders: string[] = [];
    const walk = (node: Loose, at: string) => {
      for (const [key, child] of Object.entries((node.properties ?? {}) as Loose)) {
        if (
          /token|secret|password|apikey|key$/i.test(key) &&
          !/Env$|^topologyKey$/.test(key) &&
          child.type === 'string'
        ) {
          if (!/Secret|key in|key of/i.test(child.description ?? '')) offenders.push(`${at}.${key}`);
        }
        walk(child, `${at}.${key}`);
      }
      if (node.items) walk(node.items, `${at}[]`);
    };
    walk(schema, '');
    expect(offenders).toEqual([]);
  });

  it.each(['values.yaml', ...EXAMPLES])('accepts %s', (file) => {
    const values =
      file === 'values.yaml'
        ? defaults
        : merge(defaults, parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Values);
    expect(problems(values)).toEqual([]);
  });
});

/** One gateway pod that renders (the templates check the gateway's values only when it is enabled). */
const ONE_GATEWAY = {
  enabled: true,
  replicas: 1,
  controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
};

/** Two gateway pods on the in-memory limiter: refused by the schema and by the templates. */
const MEMORY_LIMITER_WITH_REPLICAS: Values = {
  gateway: {
    enabled: true,
    replicas: 2,
    sessionSecret: 's',
    controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
    rateLimit: { backend: 'memory' },
  },
};

describe('bad-input: values refused with a message naming the value', () => {
  const refused: [string, Values, RegExp][] = [
    ['a wrong type', { controlPlane: { replicas: 'two' } }, /\/controlPlane\/replicas: must be integer/],
    [
      'a misspelt key',
      { controlPlane: { replica: 3 } },
      /\/controlPlane: must NOT have additional properties/,
    ],
    [
      'replicas > 1 without a signing-key Secret',
      { controlPlane: { replicas: 3 }, signingKey: { existingSecret: '' } },
      /\/signingKey\/existingSecret: must NOT have fewer than 1 characters/,
    ],
    [
      'autoscaling without a signing-key Secret',
      { controlPlane: { replicas: 1, autoscaling: { enabled: true } }, signingKey: { existingSecret: '' } },
      /\/signingKey\/existingSecret: must NOT have fewer than 1 characters/,
    ],
    [
      'a multi-replica gateway on the in-memory limiter',
      MEMORY_LIMITER_WITH_REPLICAS,
      /\/gateway\/rateLimit\/backend: must be equal to one of the allowed values/,
    ],
    [
      'a multi-replica gateway without a session secret',
      {
        gateway: {
          enabled: true,
          replicas: 3,
          controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
        },
      },
      /\/gateway\/sessionSecret: must NOT have fewer than 1 characters/,
    ],
    [
      'a credential as a plain variable',
      { controlPlane: { extraEnv: { GITHUB_TOKEN: 'ghp_x' } } },
      /\/controlPlane\/extraEnv: property name must be valid/,
    ],
    [
      'an overlay credential without a Secret',
      {
        gateway: {
          upstreams: [
            { name: 'gh', url: 'https://mcp.example.com/sse', auth: 'bearer', tokenEnv: 'GH_TOKEN' },
          ],
        },
      },
      /\/gateway\/upstreams\/0: must have required property 'tokenSecret'/,
    ],
    [
      'an overlay URL with userinfo',
      { gateway: { upstreams: [{ name: 'gh', url: 'https://user:pw@mcp.example.com/sse' }] } },
      /\/gateway\/upstreams\/0\/url: must match pattern/,
    ],
    [
      'a control plane URL over plain http',
      { gateway: { controlPlane: { url: 'http://agent-bom-api:8422' } } },
      /\/gateway\/controlPlane\/url: must match pattern/,
    ],
    [
      'an image digest that is not sha256',
      { image: { digest: 'latest' } },
      /\/image\/digest: must match pattern/,
    ],
    [
      'a scan source id with a space',
      { scans: { cronJob: { sourceId: 'prod scan' } } },
      /\/scans\/cronJob\/sourceId: must match pattern/,
    ],
    [
      'a second --source-id in the scan extraArgs',
      { scans: { cronJob: { extraArgs: ['--source-id', 'x'] } } },
      /\/scans\/cronJob\/extraArgs\/0: must NOT be valid/,
    ],
    [
      'an argument-detector mode the gateway lacks',
      { gateway: { detectors: { arguments: 'strict' } } },
      /\/gateway\/detectors\/arguments: must be equal to one of the allowed values/,
    ],
    [
      'a gateway public URL with a path (not an origin)',
      { gateway: { publicUrl: 'https://mcp.example.com/mcp' } },
      /\/gateway\/publicUrl: must match pattern/,
    ],
    [
      'a gateway public URL over plain http off loopback',
      { gateway: { publicUrl: 'http://mcp.example.com' } },
      /\/gateway\/publicUrl: must match pattern/,
    ],
    [
      'a gateway public URL with credentials',
      { gateway: { publicUrl: 'https://user:pw@mcp.example.com' } },
      /\/gateway\/publicUrl: must match pattern/,
    ],
    [
      'a gateway host without a scheme',
      { gateway: { publicUrl: 'mcp.example.com' } },
      /\/gateway\/publicUrl: must match pattern/,
    ],
    [
      'a negative audit-file keep',
      { gateway: { auditFile: { keep: -1 } } },
      /\/gateway\/auditFile\/keep: must be >= 0/,
    ],
    [
      'an audit-file keep over 100',
      { gateway: { auditFile: { keep: 101 } } },
      /\/gateway\/auditFile\/keep: must be <= 100/,
    ],
    [
      'an audit-file size that is not a size',
      { gateway: { auditFile: { maxSize: '10 megabytes' } } },
      /\/gateway\/auditFile\/maxSize: must match pattern/,
    ],
    [
      'a state-dir size limit that is not a quantity',
      { gateway: { stateDir: { sizeLimit: '128MB' } } },
      /\/gateway\/stateDir\/sizeLimit: must match pattern/,
    ],
    [
      'a state-dir claim shared by more than one gateway pod',
      {
        gateway: {
          enabled: true,
          replicas: 2,
          sessionSecret: 's',
          controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
          stateDir: { existingClaim: 'gw-state' },
        },
      },
      /\/gateway\/stateDir\/existingClaim: must NOT have more than 0 characters/,
    ],
    [
      'a container without limits',
      { gateway: { resources: { limits: null } } },
      /\/gateway\/resources: must have required property 'limits'/,
    ],
  ];

  it.each(refused)('refuses %s', (_name, override, message) => {
    const found = problems(merge(defaults, override));
    expect(found.join('\n')).toMatch(message);
  });

  it('the schema accepts what the refusals change back to sane values', () => {
    expect(
      problems(merge(defaults, { controlPlane: { replicas: 1 }, signingKey: { existingSecret: '' } })),
    ).toEqual([]);
    for (const publicUrl of [
      'https://mcp.example.com',
      'https://mcp.example.com:8443/',
      'https://[2001:db8::1]',
      'http://localhost:8090',
      'http://127.0.0.1:8090',
      '',
    ]) {
      expect([publicUrl, problems(merge(defaults, { gateway: { publicUrl } }))]).toEqual([publicUrl, []]);
    }
    for (const maxSize of ['4096', '4KiB', '512kib', '10MiB', '10MB', '1GiB'])
      expect(
        problems(merge(defaults, { gateway: { auditFile: { enabled: true, maxSize, keep: 0 } } })),
      ).toEqual([]);
  });

  // The same rules, enforced by the templates too (the renderer, like `helm template`, stops with the message).
  it.each([
    [
      { controlPlane: { replicas: 3 }, signingKey: { existingSecret: '' } },
      'signingKey.existingSecret is required when more than one control-plane pod can run',
    ],
    [
      MEMORY_LIMITER_WITH_REPLICAS,
      'gateway.rateLimit.backend memory cannot be used when more than one gateway pod can run',
    ],
    [
      {
        gateway: {
          enabled: true,
          replicas: 2,
          controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
        },
      },
      'gateway.sessionSecret is required',
    ],
    [
      { gateway: { enabled: true, replicas: 1, controlPlane: { tokenSecret: 't' } } },
      'gateway.controlPlane.url is required (https)',
    ],
    [
      { gateway: { enabled: true, replicas: 1, controlPlane: { enabled: false } } },
      'the gateway has nothing to front',
    ],
    [{ database: { existingSecret: '' } }, 'database.existingSecret is required'],
    [
      {
        gateway: {
          enabled: true,
          replicas: 2,
          sessionSecret: 's',
          controlPlane: { tokenSecret: 't', url: 'https://cp.example.com' },
          stateDir: { existingClaim: 'gw-state' },
        },
      },
      'gateway.stateDir.existingClaim cannot be used when more than one gateway pod can run',
    ],
    [
      { gateway: { ...ONE_GATEWAY, auditFile: { enabled: true, maxSize: '2GiB' } } },
      'gateway.auditFile.maxSize must be a size between 4KiB and 1GiB, e.g. 10MiB (got "2GiB")',
    ],
    [
      { gateway: { ...ONE_GATEWAY, auditFile: { enabled: true, maxSize: '4095' } } },
      'gateway.auditFile.maxSize must be a size between 4KiB and 1GiB',
    ],
    [
      { gateway: { ...ONE_GATEWAY, auditFile: { enabled: true, keep: -1 } } },
      'gateway.auditFile.keep must be 0-100',
    ],
    [
      { gateway: { ...ONE_GATEWAY, auditFile: { enabled: true, maxSize: '10MiB', keep: 12 } } },
      'gateway.stateDir.sizeLimit 128Mi cannot hold the audit file: (auditFile.keep + 1) x auditFile.maxSize is 136314880 bytes',
    ],
    [
      { scans: { cronJob: { enabled: true, pushApiKeySecret: 'k' } } },
      'scans.cronJob.pushUrl is required (https)',
    ],
  ])('the templates refuse %j', (override, message) => {
    expect(renderRefusal(override as Values)).toContain(message);
  });
});
