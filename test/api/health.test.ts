import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('health, readiness, metrics and docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /healthz is public and ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
  });

  it('GET /readyz reports the database and migrations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().details.database.status).toBe('up');
    expect(res.json().details.migrations.status).toBe('up');
  });

  it('GET /metrics exposes request counters by route template', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/auth/keys/4b6f3f3e-8a51-4c2b-9a37-111111111111' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain(
      'agent_bom_http_requests_total{method="GET",route="/v1/auth/keys/:id",status="401"}',
    );
    expect(res.body).not.toContain('4b6f3f3e');
  });

  it('serves the OpenAPI document at /docs-json and the UI at /docs', async () => {
    const json = await t.app.inject({ method: 'GET', url: '/docs-json' });
    expect(json.statusCode).toBe(200);
    expect(Object.keys(json.json().paths)).toEqual(expect.arrayContaining(['/v1/auth/me', '/v1/tenants']));
    const ui = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
  });
});

describe('readiness on a database that is not migrated', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ migrated: false });
  });
  afterAll(() => t.close());

  it('GET /readyz is 503 and names the pending migrations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(res.json().error.details)).toContain('Init1763683200000');
  });

  it('GET /healthz stays 200: liveness never depends on the database', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
  });
});
