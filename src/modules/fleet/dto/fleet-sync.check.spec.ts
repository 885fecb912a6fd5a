import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { FLEET_LIMITS } from '../../../../libs/contracts/src/index.js';
import { createValidationPipe } from '../../../core/http/validation.js';
import { isPlainValidSync } from './fleet-sync.check.js';
import { FleetSyncDto } from './fleet-sync.dto.js';

/**
 * The hand-written check against the DTOs it stands for, on a full body and on every mutation of every field of it
 * (each value replaced by each of many wrong, odd and edge values; fields dropped; unknown fields added): the check
 * never accepts what the DTOs refuse, it accepts every body they accept that has no `null` in it (so real pushes
 * take the shortcut), and what the handler receives is the same JSON either way (the Idempotency-Key hash of the
 * body depends on it).
 */
const decorators = createValidationPipe({ decoratorsOnly: true });
const pipe = createValidationPipe();
const metadata = { type: 'body' as const, metatype: FleetSyncDto, data: '' };

async function byDecorators(body: unknown): Promise<{ ok: boolean; value?: unknown }> {
  try {
    return { ok: true, value: await decorators.transform(structuredClone(body), metadata) };
  } catch {
    return { ok: false };
  }
}

const emoji = (n: number) => '\u{1F600}'.repeat(n);
const full = () => ({
  source_id: 'laptop-1.example:a_b',
  endpoint: {
    hostname: 'h',
    os: 'linux',
    os_release: '6.1',
    agent_bom_version: '0.1.0',
    owner: 'me',
    environment: 'prod',
    tags: ['a', 'b'],
  },
  collected_at: '2026-12-06T14:00:00Z',
  agents: [
    {
      name: 'claude',
      client: 'claude-code',
      config_paths: ['/home/me/.claude.json'],
      servers: [
        {
          name: 'fs',
          transport: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', ''],
          declared_tools: ['read'],
          auth_mode: 'env',
          credential_env_names: ['TOKEN'],
          credential_header_names: ['Authorization'],
          config_path: '/home/me/.claude.json',
          scope: 'project',
          project_path: '/work',
          introspection: {
            status: 'ok',
            tools: ['read', 'write'],
            error: '',
            protocol_version: '2025-06-18',
            server_name: 'fs',
            server_version: '1.0.0',
            at: '2026-12-06T14:00:00.000Z',
          },
        },
        {
          name: 'jira',
          transport: 'https',
          url: 'HTTPS://jira.example.com/mcp',
          auth_mode: 'none',
          config_path: 'c',
        },
      ],
    },
  ],
  warnings: [{ path: '/etc/x', client: 'cursor', message: 'unreadable' }],
});

/** Values each field is tried with: wrong types, edges of every length limit, odd strings. */
const VALUES: unknown[] = [
  null,
  true,
  0,
  5,
  '',
  'x',
  'linux',
  'cursor',
  'stdio',
  'https',
  'none',
  'ok',
  'project',
  'http://x',
  'ftp://x',
  '2026-12-06',
  'not a date',
  '../../etc',
  'a'.repeat(200),
  'a'.repeat(201),
  'a'.repeat(1000),
  'a'.repeat(1001),
  'a'.repeat(4096),
  'a'.repeat(4097),
  emoji(200),
  emoji(201),
  'e\uFE0F'.repeat(200),
  'e\uFE0F'.repeat(201),
  [],
  [''],
  ['x'],
  [5],
  [null],
  [[]],
  [{}],
  {},
  { status: 'ok' },
  Array.from({ length: 33 }, (_, i) => `t${i}`),
  Array.from({ length: 65 }, (_, i) => `t${i}`),
  Array.from({ length: 129 }, (_, i) => `t${i}`),
];

type Json = Record<string, unknown> | unknown[];

/** Every path to a value in `body` (object keys and array indexes). */
function paths(node: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof node !== 'object' || node === null) return [];
  const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...paths((node as Record<string | number, unknown>)[key], path)];
  });
}

function at(body: unknown, path: Array<string | number>): Json {
  return path.reduce((node, key) => (node as Record<string | number, unknown>)[key], body) as Json;
}

function mutations(): Array<[string, unknown]> {
  const base = full();
  const out: Array<[string, unknown]> = [['full', base]];
  for (const path of paths(base)) {
    const key = path[path.length - 1];
    for (const value of [...VALUES, undefined]) {
      const body = structuredClone(base);
      const parent = at(body, path.slice(0, -1)) as Record<string | number, unknown>;
      if (value === undefined && !Array.isArray(parent)) delete parent[key];
      else parent[key] = value;
      out.push([`${path.join('.')} = ${JSON.stringify(value)?.slice(0, 30)}`, body]);
    }
  }
  // An unknown (or prototype-looking) field at every object level.
  for (const path of [[], ...paths(base)]) {
    for (const extra of ['token', 'constructor', 'toString']) {
      const body = structuredClone(base);
      const node = at(body, path);
      if (typeof node !== 'object' || node === null || Array.isArray(node)) continue;
      (node as Record<string, unknown>)[extra] = 'x';
      out.push([`${path.join('.')}.${extra} added`, body]);
    }
  }
  const big = (n: number) => Array.from({ length: n }, (_, i) => ({ ...base.agents[0], name: `a${i}` }));
  out.push(['500 agents', { ...base, agents: big(FLEET_LIMITS.agentsPerSync) }]);
  out.push(['501 agents', { ...base, agents: big(FLEET_LIMITS.agentsPerSync + 1) }]);
  for (const body of [[], 'sync', 5, null, {}]) out.push([`body ${JSON.stringify(body)}`, body]);
  return out;
}

/**
 * The DTOs let a field named like an Object.prototype member through (whitelist or not); the check leaves such a
 * body to them, so it gets the same answer as before.
 */
const PROTOTYPE_NAMED = /\.(constructor|toString) added$/;

const hasNull = (value: unknown): boolean =>
  value === null || (typeof value === 'object' && Object.values(value as object).some(hasNull));

describe('isPlainValidSync against the DTOs', () => {
  const cases = mutations();

  it(`agrees with class-validator on ${cases.length} bodies, and the handler gets the same JSON`, async () => {
    const disagreements: string[] = [];
    let accepted = 0;
    for (const [label, body] of cases) {
      const fast = isPlainValidSync(body);
      const slow = await byDecorators(body);
      if (fast && !slow.ok) disagreements.push(`${label}: the check accepts what the DTOs refuse`);
      if (!fast && slow.ok && !hasNull(body) && !PROTOTYPE_NAMED.test(label))
        disagreements.push(`${label}: the DTOs accept, the check does not`);
      if (fast && slow.ok) {
        accepted++;
        const given = await pipe.transform(body, metadata);
        expect(given).toBe(body);
        if (JSON.stringify(given) !== JSON.stringify(slow.value)) disagreements.push(`${label}: other JSON`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(accepted).toBeGreaterThan(100);
  });

  it('a refused body still gets the DTOs answer through the global pipe', async () => {
    const body = { ...full(), agents: [{ ...full().agents[0], client: 'netscape' }] };
    await expect(pipe.transform(body, metadata)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining(
        'agents.0.client: agents.0.client must be one of the following values',
      ),
    });
  });
});
