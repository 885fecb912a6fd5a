import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { listRoutes, type RouteInfo } from '../helpers/routes.js';

const SOME_UUID = '2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b';
const concrete = (route: RouteInfo) => route.path.replace(/:[a-z_]+/gi, SOME_UUID);

describe('unauthenticated: every route is public by declaration or closed to anonymous callers', () => {
  let t: TestApp;
  let routes: RouteInfo[];
  beforeAll(async () => {
    t = await startTestApp();
    routes = listRoutes(t.app);
  });
  afterAll(() => t.close());

  it('finds the routes it is checking (the inventory is not empty)', () => {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['GET /v1/auth/me', 'POST /v1/auth/keys', 'POST /v1/tenants', 'GET /healthz']),
    );
  });

  it('every route declares @Public() or exactly one permission', () => {
    const undeclared = routes.filter((r) => !r.isPublic && !r.permission).map((r) => r.handler);
    const both = routes.filter((r) => r.isPublic && r.permission).map((r) => r.handler);
    expect(undeclared).toEqual([]);
    expect(both).toEqual([]);
  });

  it('only health, readiness, metrics and the login entry points are public', () => {
    expect(
      routes
        .filter((r) => r.isPublic)
        .map((r) => r.path)
        .sort(),
    ).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/auth/oidc/callback',
      '/v1/auth/oidc/login',
      '/v1/auth/saml/acs',
      '/v1/auth/saml/login',
      '/v1/auth/saml/metadata',
      '/v1/auth/session',
      '/v1/auth/sso',
    ]);
  });

  it('every non-public route answers 401 with a Bearer challenge and the envelope, without credentials', async () => {
    for (const route of routes.filter((r) => !r.isPublic)) {
      const res = await t.app.inject({ method: route.method as 'GET', url: concrete(route), payload: {} });
      expect({ route: route.handler, status: res.statusCode }).toEqual({ route: route.handler, status: 401 });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="agent-bom"');
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });

  it.each([
    ['a malformed Authorization header', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a bearer that is not an API key', { authorization: 'Bearer not-a-key' }],
    ['a well-formed key that was never issued', { authorization: `Bearer abom_${'A'.repeat(43)}` }],
    ['an unknown X-API-Key', { 'x-api-key': `abom_${'B'.repeat(43)}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('%s is a 401', async (_label, headers) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('a valid key is accepted through X-API-Key as well as Authorization', async () => {
    const tenant = await createTenant(t.app);
    const { raw } = await createKey(t.app, tenant, 'viewer');
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { 'x-api-key': raw } });
    expect(res.statusCode).toBe(200);
    expect(res.json().tenant_id).toBe(tenant);
  });
});
