import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyBundle } from '../../libs/policy/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { api, fetchBundle, policyDocument, POLICIES, servedKeys } from '../helpers/policy.js';

const MARKER = 'tenant_a_only_tool';

describe("cross-tenant: another tenant's policies do not exist for you (404), and never reach your bundle", () => {
  let t: TestApp;
  let a: string;
  let b: string;
  let adminA: ReturnType<typeof api>;
  let adminB: ReturnType<typeof api>;
  let proxyBKey: string;
  let policyOfA: { id: string; version: number } = { id: '', version: 0 };
  beforeAll(async () => {
    t = await startTestApp();
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    adminA = api(t, (await createKey(t.app, a, 'admin')).raw);
    adminB = api(t, (await createKey(t.app, b, 'admin')).raw);
    proxyBKey = (await createKey(t.app, b, 'proxy')).raw;
    const created = await adminA.create({
      name: 'shared-name',
      document: policyDocument([{ id: 'a-rule', effect: 'deny', tools: [MARKER] }], {
        default_effect: 'deny',
      }),
    });
    policyOfA = created.json();
  });
  afterAll(() => t.close());

  const doc = policyDocument([{ id: 'b-rule', effect: 'warn', tools: ['x'] }]);

  it.each([
    ['GET', 'GET', (): string => `${POLICIES}/${policyOfA.id}`, undefined],
    ['GET ?version=1', 'GET', (): string => `${POLICIES}/${policyOfA.id}?version=1`, undefined],
    ['GET …/versions', 'GET', (): string => `${POLICIES}/${policyOfA.id}/versions`, undefined],
    [
      'PUT',
      'PUT',
      (): string => `${POLICIES}/${policyOfA.id}`,
      (): object => ({ name: 'taken-over', document: doc }),
    ],
    ['DELETE', 'DELETE', (): string => `${POLICIES}/${policyOfA.id}`, undefined],
    [
      'POST /v1/gateway/evaluate with policy_id',
      'POST',
      (): string => '/v1/gateway/evaluate',
      (): object => ({ tool: MARKER, policy_id: policyOfA.id }),
    ],
  ] as const)(
    "%s on tenant A's policy with tenant B's admin key → 404",
    async (_label, method, url, payload) => {
      const res = await adminB.call(method, url(), payload?.());
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    },
  );

  it("B's attempts left A's policy exactly as it was", async () => {
    const got = await adminA.get(policyOfA.id);
    expect(got.json()).toMatchObject({ version: 1, name: 'shared-name', deleted: false, tenant_id: a });
    const versions = await adminA.call('GET', `${POLICIES}/${policyOfA.id}/versions`);
    expect(versions.json().items).toHaveLength(1);
  });

  it('names are per tenant, lists show only your tenant', async () => {
    const own = await adminB.create({ name: 'shared-name', document: doc });
    expect(own.statusCode).toBe(201);
    const listB = (await adminB.call('GET', POLICIES)).json().items.map((p: { id: string }) => p.id);
    expect(listB).toEqual([own.json().id]);
    const listA = (await adminA.call('GET', POLICIES)).json().items.map((p: { id: string }) => p.id);
    expect(listA).toEqual([policyOfA.id]);
  });

  it("B's bundle holds B's rules only, is for B, and counts B's changes only", async () => {
    const { bundle } = await fetchBundle(t, proxyBKey);
    const { fromPem } = await servedKeys(t, proxyBKey);
    const payload = verifyBundle(bundle, { keys: fromPem, now: Date.now(), tenantId: b });
    expect(payload.tenant_id).toBe(b);
    expect(payload.version).toBe(1); // A's write is not B's change
    expect(payload.policy).toEqual({
      version: 1,
      rules: [{ id: 'shared-name/b-rule', effect: 'warn', tools: ['x'] }],
    }); // and A's deny default is not B's either
    expect(JSON.stringify(bundle)).not.toContain(MARKER);
    expect(JSON.stringify(bundle)).not.toContain(a);
  });

  it("B's dry run does not see A's rules", async () => {
    const res = await adminB.evaluate({ tool: MARKER });
    expect(res.json()).toMatchObject({ effect: 'allow', rule_id: null, bundle_version: 1 });
  });

  it('a tenant in the body, query or headers is ignored or refused: the key decides', async () => {
    const withTenant = await adminB.create({ name: 'sneaky', tenant_id: a, document: doc });
    expect(withTenant.statusCode).toBe(400);
    expect(withTenant.json().error.message).toContain('tenant_id');
    const viaHeader = await adminB.call(
      'POST',
      `${POLICIES}?tenant_id=${a}`,
      { name: 'sneaky', document: doc },
      {
        'x-agent-bom-tenant-id': a,
      },
    );
    expect(viaHeader.statusCode).toBe(201);
    expect(viaHeader.json().tenant_id).toBe(b);
    const bundleA = (await fetchBundle(t, (await createKey(t.app, a, 'proxy')).raw)).bundle;
    expect(JSON.stringify(bundleA)).not.toContain('sneaky');
  });
});
