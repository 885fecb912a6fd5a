import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { api, policyCounts, policyDocument, POLICIES } from '../helpers/policy.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const doc = policyDocument([{ id: 'r', effect: 'deny', tools: ['x'] }]);

describe('wrong role: policy routes by permission (read viewer+, write admin+, bundle proxy/gateway/viewer+)', () => {
  let t: TestApp;
  let policyId: string;
  const keys = new Map<Role, string>();
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[]) {
      keys.set(role, (await createKey(t.app, tenant, role)).raw);
    }
    policyId = (await api(t, keys.get('admin')!).create({ name: 'p', document: doc })).json().id;
  });
  afterAll(() => t.close());

  const routes = (): Array<[string, Method, string, object | undefined]> => [
    ['list', 'GET', POLICIES, undefined],
    ['get', 'GET', `${POLICIES}/${policyId}`, undefined],
    ['versions', 'GET', `${POLICIES}/${policyId}/versions`, undefined],
    ['create', 'POST', POLICIES, { name: 'new', document: doc }],
    ['update', 'PUT', `${POLICIES}/${policyId}`, { name: 'p', description: 'changed', document: doc }],
    ['delete', 'DELETE', `${POLICIES}/${policyId}`, undefined],
    ['evaluate', 'POST', '/v1/gateway/evaluate', { tool: 'x' }],
    ['bundle', 'GET', '/v1/policy/bundle', undefined],
    ['verification-key', 'GET', '/v1/policy/verification-key', undefined],
  ];

  /** Role → the routes it may call; every other route is a 403 for it. */
  const ALLOWED: Record<string, string[]> = {
    viewer: ['list', 'get', 'versions', 'evaluate', 'bundle', 'verification-key'],
    analyst: ['list', 'get', 'versions', 'evaluate', 'bundle', 'verification-key'],
    'fleet-push': [],
    proxy: ['bundle', 'verification-key'],
    gateway: ['bundle', 'verification-key'],
  };

  it.each(Object.keys(ALLOWED))(
    '%s: refused routes are 403 and write nothing; allowed ones answer',
    async (role) => {
      const key = api(t, keys.get(role as Role)!);
      for (const [name, method, url, payload] of routes()) {
        const before = await policyCounts(t);
        const res = await key.call(method, url, payload);
        const allowed = ALLOWED[role].includes(name);
        expect({ role, name, status: res.statusCode }).toEqual({ role, name, status: allowed ? 200 : 403 });
        if (!allowed) expect(res.json().error.code).toBe('FORBIDDEN');
        expect(await policyCounts(t)).toBe(before);
      }
    },
  );

  it('admin may do everything', async () => {
    const admin = api(t, keys.get('admin')!);
    expect((await admin.create({ name: 'admin-made', document: doc })).statusCode).toBe(201);
    expect((await admin.put(policyId, { name: 'p', description: 'x', document: doc })).statusCode).toBe(200);
    expect((await admin.remove(policyId)).statusCode).toBe(200);
  });
});
