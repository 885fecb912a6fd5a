import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { POLICY_LIMITS, type Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { api, policyCounts, policyDocument, POLICIES } from '../helpers/policy.js';

const EVALUATE = '/v1/gateway/evaluate';
const MARKER = 'tenant_a_only_tool';
const draft = {
  name: 'draft-no-shell',
  document: policyDocument(
    [
      { id: 'no-shell', effect: 'deny', tools: ['run_shell', 'shell_*'] },
      { id: 'watch-writes', effect: 'warn', tools: ['write_file'] },
    ],
    { default_effect: 'allow' },
  ),
};

/**
 * `POST /v1/gateway/evaluate` with `draft`: a policy that is not saved, checked exactly as a save would check it,
 * evaluated alone as it would contribute to the effective policy, and nothing written (no policy, no version, no
 * bundle, no audit entry).
 */
describe('dry run of an unsaved draft policy', () => {
  let t: TestApp;
  let a: string;
  let adminA: ReturnType<typeof api>;
  let adminB: ReturnType<typeof api>;
  const keysA = new Map<Role, string>();
  let counts: string;
  beforeAll(async () => {
    t = await startTestApp();
    a = await createTenant(t.app);
    const b = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[]) {
      keysA.set(role, (await createKey(t.app, a, role)).raw);
    }
    adminA = api(t, keysA.get('admin')!);
    adminB = api(t, (await createKey(t.app, b, 'admin')).raw);
    // Tenant A's saved, enabled policy denies MARKER: a draft evaluates alone, without it.
    const saved = await adminA.create({
      name: 'saved',
      document: policyDocument([{ id: 'a-rule', effect: 'deny', tools: [MARKER] }]),
    });
    expect(saved.statusCode).toBe(201);
  });
  beforeEach(async () => {
    counts = await policyCounts(t);
  });
  afterAll(() => t.close());

  it('decides a call against the draft alone, its rules named as they would be in the bundle', async () => {
    const shell = await adminA.evaluate({ tool: 'shell_exec', draft });
    expect({ status: shell.statusCode, body: shell.json() }).toMatchObject({
      status: 200,
      body: {
        effect: 'deny',
        rule_id: 'draft-no-shell/no-shell',
        bundle_version: 1,
        policy_id: null,
        policy_version: null,
      },
    });
    const write = await adminA.evaluate({ tool: 'write_file', draft });
    expect(write.json()).toMatchObject({ effect: 'warn', rule_id: 'draft-no-shell/watch-writes' });
    // The tenant's saved policy is not part of a draft's dry run…
    expect((await adminA.evaluate({ tool: MARKER, draft })).json()).toMatchObject({
      effect: 'allow',
      rule_id: null,
    });
    // …while the tenant's effective policy still decides without one.
    expect((await adminA.evaluate({ tool: MARKER })).json()).toMatchObject({
      effect: 'deny',
      rule_id: 'saved/a-rule',
    });
    expect(await policyCounts(t)).toBe(counts);
  });

  it('applies the draft’s policy bindings and default effect like a saved policy', async () => {
    const bound = {
      name: 'prod-only',
      document: policyDocument([], { default_effect: 'deny' }),
      bindings: { environments: ['prod*'] },
    };
    const prod = await adminA.evaluate({ tool: 'x', context: { environment: 'prod-eu' }, draft: bound });
    expect(prod.json()).toMatchObject({ effect: 'deny', rule_id: 'prod-only:default' });
    const dev = await adminA.evaluate({ tool: 'x', context: { environment: 'dev' }, draft: bound });
    expect(dev.json()).toMatchObject({ effect: 'allow', rule_id: null });
  });

  it('a draft without a name is named "draft"', async () => {
    const res = await adminA.evaluate({ tool: 'run_shell', draft: { document: draft.document } });
    expect(res.json()).toMatchObject({ effect: 'deny', rule_id: 'draft/no-shell' });
  });

  it('the same draft saved gives the same decision (one set of merge rules)', async () => {
    const res = await adminA.evaluate({ tool: 'shell_x', draft });
    const created = await adminA.create({ ...draft, enabled: false });
    expect(created.statusCode).toBe(201);
    const saved = await adminA.evaluate({ tool: 'shell_x', policy_id: created.json().id });
    const { policy_id: _id, policy_version: _v, ...fromSaved } = saved.json();
    const { policy_id: _id2, policy_version: _v2, ...fromDraft } = res.json();
    expect(fromDraft).toEqual({ ...fromSaved, bundle_version: fromDraft.bundle_version });
    await adminA.remove(created.json().id);
  });

  describe('refused drafts: 4xx, the save’s own problems, nothing written', () => {
    /** The same draft refused by a save, for comparing the problems listed. */
    const saveProblems = async (body: object) => {
      const res = await adminA.create(body);
      expect(res.statusCode).toBe(400);
      return res.json().error;
    };

    it.each([
      [
        'a rule with an unknown effect',
        { name: 'p', document: policyDocument([{ id: 'r', effect: 'block', tools: ['x'] }] as never) },
        'document.rules.0.effect',
      ],
      [
        'a catastrophic regex',
        { name: 'p', document: policyDocument([{ id: 'r', effect: 'deny', tools: ['/^(\\w+\\s?)*$/'] }]) },
        'document.rules.0.tools.0',
      ],
      ['document version 2', { name: 'p', document: { version: 2, rules: [] } }, 'document.version'],
      [
        'bindings of an unknown dimension',
        { name: 'p', document: policyDocument([]), bindings: { users: ['me'] } },
        'bindings',
      ],
      [
        'a rule id too long once prefixed by the name',
        { name: 'n'.repeat(60), document: policyDocument([{ id: 'r'.repeat(100), effect: 'deny' }]) },
        'document.rules.0.id',
      ],
    ])('%s → 400 with the schema error a save gives', async (_label, body, field) => {
      const res = await adminA.evaluate({ tool: 'x', draft: body });
      expect(res.statusCode).toBe(400);
      const error = res.json().error as { code: string; message: string; details: Array<{ field: string }> };
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details.some((d) => d.field === field || d.field.startsWith(`${field}.`))).toBe(true);
      expect(await policyCounts(t)).toBe(counts);
      const saved = await saveProblems(body);
      expect(error.details).toEqual(saved.details);
      expect(error.message).toBe(saved.message);
    });

    it.each([
      ['a draft that is not an object', { tool: 'x', draft: 'deny everything' }, 'draft'],
      ['a draft without a document', { tool: 'x', draft: { name: 'p' } }, 'draft.document'],
      ['a draft whose document is an array', { tool: 'x', draft: { document: [] } }, 'draft.document'],
      [
        'a draft name with a slash',
        { tool: 'x', draft: { name: 'a/b', document: draft.document } },
        'draft.name',
      ],
      ['an unknown draft field', { tool: 'x', draft: { ...draft, tenant_id: 'other' } }, 'draft.tenant_id'],
      [
        'both draft and policy_id',
        { tool: 'x', draft, policy_id: '00000000-0000-4000-8000-000000000000' },
        'draft',
      ],
    ])('%s → 400 naming the field', async (_label, body, field) => {
      const res = await adminA.evaluate(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain(field);
      expect(await policyCounts(t)).toBe(counts);
    });

    it(`a draft over ${POLICY_LIMITS.draftChars} characters of JSON → 413, before it is compiled`, async () => {
      const rule = (i: number) =>
        ({ id: `r${i}`, effect: 'deny', description: 'd'.repeat(1_000), tools: ['x'] }) as const;
      const big = { name: 'big', document: policyDocument(Array.from({ length: 1_000 }, (_, i) => rule(i))) };
      expect(JSON.stringify(big).length).toBeGreaterThan(POLICY_LIMITS.draftChars);
      const res = await adminA.evaluate({ tool: 'x', draft: big });
      expect(res.statusCode).toBe(413);
      expect(res.json().error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(res.json().error.message).toContain('draft');
      expect(await policyCounts(t)).toBe(counts);
    });

    it('10,000 rules (the schema limit) are a valid draft; 10,001 are refused like a save', async () => {
      const rules = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: `r${i}`, effect: 'deny' as const, tools: [`t${i}`] }));
      const ok = await adminA.evaluate({
        tool: 't9999',
        draft: { name: 'big', document: policyDocument(rules(10_000)) },
      });
      expect(ok.json()).toMatchObject({ effect: 'deny', rule_id: 'big/r9999' });
      const over = await adminA.evaluate({
        tool: 'x',
        draft: { name: 'big', document: policyDocument(rules(10_001)) },
      });
      expect(over.statusCode).toBe(400);
      expect(over.json().error.message).toContain('document.rules');
      expect(await policyCounts(t)).toBe(counts);
    }, 30_000);
  });

  it('cross-tenant: B’s draft dry run sees none of A’s policies and reports B’s bundle version', async () => {
    const res = await adminB.evaluate({ tool: MARKER, draft });
    expect(res.json()).toMatchObject({ effect: 'allow', rule_id: null, bundle_version: 0 });
    const list = await adminB.call('GET', POLICIES);
    expect(list.json().items).toEqual([]);
    expect(await policyCounts(t)).toBe(counts);
  });

  it.each([
    ['admin', 200],
    ['analyst', 200],
    ['viewer', 200],
    ['fleet-push', 403],
    ['proxy', 403],
    ['gateway', 403],
  ] as const)(
    '%s: a draft dry run is role-checked like evaluate (policy:read) → %i',
    async (role, status) => {
      const res = await api(t, keysA.get(role)!).call('POST', EVALUATE, { tool: 'run_shell', draft });
      expect(res.statusCode).toBe(status);
      if (status === 200) expect(res.json()).toMatchObject({ effect: 'deny' });
      else expect(res.json().error.code).toBe('FORBIDDEN');
      expect(await policyCounts(t)).toBe(counts);
    },
  );
});
