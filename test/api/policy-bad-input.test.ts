import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { api, policyCounts, POLICIES } from '../helpers/policy.js';

const rules = (n: number, prefix = 'r') =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, effect: 'deny', tools: [`tool_${i}`] }));
const doc = (r: unknown[]) => ({ version: 1, rules: r });
const ok = doc([{ id: 'r', effect: 'deny', tools: ['x'] }]);
const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nested(depth - 1) });

describe('policy bad input: a 4xx naming the field, and nothing written', () => {
  let t: TestApp;
  let key: string;
  let admin: ReturnType<typeof api>;
  let policyId: string;
  let counts: string;
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    key = (await createKey(t.app, tenant, 'admin')).raw;
    admin = api(t, key);
    policyId = (await admin.create({ name: 'existing', document: ok })).json().id;
  });
  beforeEach(async () => {
    counts = await policyCounts(t);
  });
  afterAll(() => t.close());

  const raw = (method: 'POST' | 'PUT', url: string, body: string, contentType = 'application/json') =>
    t.app.inject({ method, url, headers: { ...bearer(key), 'content-type': contentType }, payload: body });

  /** The error names `field` in a detail (exactly, or as the start of a nested path) and in its message. */
  const expectField = (res: Awaited<ReturnType<typeof raw>>, field: string, status = 400) => {
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status, body: { error: {} } });
    const error = res.json().error as { message: string; details?: Array<{ field: string }> };
    expect(error.message).toContain(field);
    if (status === 400) {
      expect(error.details?.some((d) => d.field === field || d.field.startsWith(`${field}.`))).toBe(true);
    }
  };

  it.each([
    ['unknown top-level field', { name: 'p', document: ok, rules: [] }, 'rules'],
    ['missing document', { name: 'p' }, 'document'],
    ['missing name', { document: ok }, 'name'],
    ['a name with a slash', { name: 'a/b', document: ok }, 'name'],
    ['a name with spaces', { name: 'my policy', document: ok }, 'name'],
    ['a 65-character name', { name: 'n'.repeat(65), document: ok }, 'name'],
    ['document is an array', { name: 'p', document: [ok] }, 'document'],
    ['document is a string', { name: 'p', document: JSON.stringify(ok) }, 'document'],
    ['document version 2', { name: 'p', document: { version: 2, rules: [] } }, 'document.version'],
    ['unknown document field', { name: 'p', document: { ...ok, mode: 'audit' } }, 'document'],
    [
      'unknown rule field',
      { name: 'p', document: doc([{ id: 'r', effect: 'deny', action: 'block' }]) },
      'document.rules.0',
    ],
    [
      'catastrophic tool regex',
      { name: 'p', document: doc([{ id: 'r', effect: 'deny', tools: ['/^(\\w+\\s?)*$/'] }]) },
      'document.rules.0.tools.0',
    ],
    [
      'catastrophic argument regex',
      {
        name: 'p',
        document: doc([
          { id: 'r', effect: 'deny', arguments: [{ path: '$.q', op: 'regex', value: '/(a|a)*b/' }] },
        ]),
      },
      'document.rules.0.arguments.0.value',
    ],
    [
      'an invalid regex',
      { name: 'p', document: doc([{ id: 'r', effect: 'deny', tools: ['/([a-z]/'] }]) },
      'document.rules.0.tools.0',
    ],
    [
      'a bad egress host',
      {
        name: 'p',
        document: doc([{ id: 'r', effect: 'deny', egress: { allow_hosts: ['https://x.com/path'] } }]),
      },
      'document.rules.0.egress.allow_hosts.0',
    ],
    [
      'policy bindings with an unknown dimension',
      { name: 'p', document: ok, bindings: { teams: ['x'] } },
      'bindings',
    ],
    ['empty policy bindings list', { name: 'p', document: ok, bindings: { agents: [] } }, 'bindings.agents'],
    [
      'a rule binding what its policy binds',
      {
        name: 'p',
        bindings: { agents: ['ci'] },
        document: doc([{ id: 'r', effect: 'deny', bindings: { agents: ['other'] } }]),
      },
      'document.rules.0.bindings.agents',
    ],
    [
      'a rule id too long once prefixed with the policy name',
      { name: 'a-long-policy-name', document: doc([{ id: 'x'.repeat(120), effect: 'deny' }]) },
      'document.rules.0.id',
    ],
    [
      'a description with control characters',
      { name: 'p', description: 'a\u0007b', document: ok },
      'description',
    ],
    [
      'a 2001-character description',
      { name: 'p', description: 'd'.repeat(2001), document: ok },
      'description',
    ],
    ['enabled as a string', { name: 'p', enabled: 'yes', document: ok }, 'enabled'],
    [
      'deep nesting',
      {
        name: 'p',
        document: doc([
          { id: 'r', effect: 'deny', arguments: [{ path: '$', op: 'equals', value: nested(40) }] },
        ]),
      },
      'document.rules.0.arguments.0.value',
    ],
    ['more than 10,000 rules', { name: 'p', document: doc(rules(10_001)) }, 'document.rules'],
  ])('POST %s → 400 naming the field', async (_label, body, field) => {
    const res = await admin.create(body);
    expectField(res, field);
    expect(await policyCounts(t)).toBe(counts);
  });

  it.each([
    [
      'a NUL in a rule id',
      '{"name":"p","document":{"version":1,"rules":[{"id":"a\\u0000b","effect":"deny"}]}}',
      'document.rules.0.id',
    ],
    [
      'a lone surrogate in a rule description',
      '{"name":"p","document":{"version":1,"rules":[{"id":"r","effect":"deny","description":"\\ud800"}]}}',
      'document.rules.0.description',
    ],
    [
      'a lone surrogate in a binding',
      '{"name":"p","document":{"version":1,"rules":[]},"bindings":{"agents":["\\udfff"]}}',
      'bindings.agents.0',
    ],
    ['malformed JSON', '{"name":"p","document":', undefined],
    [
      'prototype pollution',
      '{"name":"p","document":{"version":1,"rules":[],"__proto__":{"x":1}}}',
      undefined,
    ],
  ])('POST %s → 400, nothing written', async (_label, body, field) => {
    const res = await raw('POST', POLICIES, body);
    expect(res.statusCode).toBe(400);
    if (field) expectField(res, field);
    expect(await policyCounts(t)).toBe(counts);
  });

  it('a body that is not JSON is a 415', async () => {
    const res = await raw('POST', POLICIES, 'name=p', 'application/x-www-form-urlencoded');
    expect(res.statusCode).toBe(415);
    expect(await policyCounts(t)).toBe(counts);
  });

  it('a huge document is a 413 before any parsing', async () => {
    const res = await raw(
      'POST',
      POLICIES,
      JSON.stringify({ name: 'p', document: { version: 1, rules: [], x: 'y'.repeat(5 * 1024 * 1024) } }),
    );
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await policyCounts(t)).toBe(counts);
  });

  it.each([
    ['If-Match that is not a version', { 'if-match': 'W/"1"' }, {}, 'If-Match'],
    ['expected_version that is not a number', {}, { expected_version: 'one' }, 'expected_version'],
    [
      'expected_version disagreeing with If-Match',
      { 'if-match': '"1"' },
      { expected_version: 2 },
      'expected_version',
    ],
  ])('PUT with %s → 400', async (_label, headers, extra, field) => {
    const res = await admin.put(
      policyId,
      { name: 'existing', description: 'x', document: ok, ...extra },
      headers,
    );
    expectField(res, field);
    expect(await policyCounts(t)).toBe(counts);
  });

  it.each([
    ['a malformed id', 'GET', `${POLICIES}/not-a-uuid`, 'id'],
    ['a malformed id on PUT', 'PUT', `${POLICIES}/not-a-uuid`, 'id'],
    ['version 0', 'GET', () => `${POLICIES}/${policyId}?version=0`, 'version'],
    ['a non-numeric version', 'GET', () => `${POLICIES}/${policyId}?version=latest`, 'version'],
    ['a forged list cursor', 'GET', `${POLICIES}?cursor=Zm9yZ2Vk`, 'cursor'],
    ['a forged versions cursor', 'GET', () => `${POLICIES}/${policyId}/versions?cursor=WyJ4Il0`, 'cursor'],
    ['a limit over 200', 'GET', `${POLICIES}?limit=201`, 'limit'],
  ] as const)('%s → 400 naming the field', async (_label, method, url, field) => {
    const target = typeof url === 'function' ? url() : url;
    const res = await admin.call(method, target, method === 'PUT' ? { name: 'x', document: ok } : undefined);
    expectField(res, field);
    expect(await policyCounts(t)).toBe(counts);
  });

  it.each([
    ['unknown field', { tool: 'x', tenant_id: 'other' }, 'tenant_id'],
    ['a tool name over 1,024 characters', { tool: 't'.repeat(1025) }, 'tool'],
    ['a method over 256 characters', { method: 'm'.repeat(257), tool: 'x' }, 'method'],
    ['arguments that are not an object', { tool: 'x', arguments: 'rm -rf /' }, 'arguments'],
    [
      'arguments over 1,000,000 characters',
      { tool: 'x', arguments: { blob: 'b'.repeat(1_000_001) } },
      'arguments',
    ],
    ['an unknown context field', { tool: 'x', context: { user: 'me' } }, 'context.user'],
    ['a context value that is not a string', { tool: 'x', context: { agent: 7 } }, 'context.agent'],
    ['a policy_id that is not a UUID', { tool: 'x', policy_id: '1' }, 'policy_id'],
  ])('evaluate with %s → 400 naming the field', async (_label, body, field) => {
    const res = await admin.evaluate(body);
    expectField(res, field);
  });

  it('arguments nested deeper than the body allows → 400 naming the path', async () => {
    const res = await admin.evaluate({ tool: 'x', arguments: nested(40) as object });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('arguments.a.a');
  });

  it('10,000 rules are accepted, signed into the bundle; one more rule in another policy is refused', async () => {
    const big = await admin.create({ name: 'big', document: doc(rules(9_999)) });
    expect(big.statusCode).toBe(201);
    const bundle = await admin.bundle();
    expect(bundle.statusCode).toBe(200);
    expect(bundle.json().payload.policy.rules).toHaveLength(10_000); // with the 'existing' policy's rule
    const dryRun = await admin.evaluate({ tool: 'tool_9998' }); // too big to cache: compiled for the dry run
    expect(dryRun.json()).toMatchObject({ effect: 'deny', rule_id: 'big/r9998' });
    const before = await policyCounts(t);
    const more = await admin.create({ name: 'one-more', document: ok });
    expectField(more, 'document.rules');
    expect(more.json().error.message).toContain('10001 rules in total');
    expect(await policyCounts(t)).toBe(before);
    // Disabling the big one makes room.
    await admin.put(big.json().id, { name: 'big', enabled: false, document: doc(rules(9_999)) });
    expect((await admin.create({ name: 'one-more', document: ok })).statusCode).toBe(201);
  }, 60_000);
});
