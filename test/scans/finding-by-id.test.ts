import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadOsvSource, type MemoryAdvisorySource } from '../../libs/advisories/src/index.js';
import type { FindingDetailView, FindingView, Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { makeScanFixture, OSV_FIXTURES, scanFixture } from './fixture.js';

/**
 * `GET /v1/findings/{id}`: one finding on every endpoint that reports it, from real pushed scans; another tenant's
 * id and a malformed id are the same 404; the permission is the list's (`scan:read`).
 */
describe('single finding route', () => {
  let t: TestApp;
  let fixture: Awaited<ReturnType<typeof makeScanFixture>>;
  let advisories: MemoryAdvisorySource;
  const keys = new Map<string, string>();
  let listed: FindingView[];
  const get = (url: string, key: string) => t.app.inject({ method: 'GET', url, headers: bearer(key) });

  beforeAll(async () => {
    t = await startTestApp();
    const alpha = await createTenant(t.app);
    const beta = await createTenant(t.app);
    for (const role of ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'] as Role[])
      keys.set(role, (await createKey(t.app, alpha, role)).raw);
    keys.set('beta-viewer', (await createKey(t.app, beta, 'viewer')).raw);
    fixture = await makeScanFixture();
    advisories = (await loadOsvSource(OSV_FIXTURES)).source;
    for (const source of ['laptop-1', 'laptop-2']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/results/push',
        headers: bearer(keys.get('fleet-push')!),
        payload: await scanFixture(fixture, advisories, source),
      });
      expect(res.statusCode).toBe(201);
    }
    listed = (await get('/v1/findings?status=all&limit=200', keys.get('viewer')!)).json().items;
  });
  afterAll(async () => {
    await t.close();
    await fs.rm(fixture.root, { recursive: true, force: true });
  });

  it('answers the finding on each endpoint that reports it, exactly as the list shows it', async () => {
    const target = listed.find((f) => f.kind === 'vulnerability')!;
    const res = await get(`/v1/findings/${target.id}`, keys.get('viewer')!);
    expect(res.statusCode).toBe(200);
    const body = res.json() as FindingDetailView;
    expect(body.id).toBe(target.id);
    expect(body.items.map((f) => f.source_id).sort()).toEqual(['laptop-1', 'laptop-2']);
    const fromList = listed.filter((f) => f.id === target.id);
    expect(fromList).toHaveLength(2);
    for (const item of body.items) expect(item).toEqual(fromList.find((f) => f.source_id === item.source_id));
  });

  it("another tenant's id is a 404, the same as an unknown or malformed id, and leaks nothing", async () => {
    const target = listed[0];
    const cross = await get(`/v1/findings/${target.id}`, keys.get('beta-viewer')!);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe('NOT_FOUND');
    expect(cross.body).not.toContain(target.title);
    const unknown = await get(`/v1/findings/f_${'0'.repeat(24)}`, keys.get('viewer')!);
    expect(unknown.statusCode).toBe(404);
    for (const bad of ['nope', `F_${'a'.repeat(24)}`, `f_${'a'.repeat(25)}`, "f_'%20OR%201=1"]) {
      const res = await get(`/v1/findings/${bad}`, keys.get('viewer')!);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toEqual({ ...cross.json().error, request_id: expect.any(String) });
    }
  });

  it.each(['fleet-push', 'proxy', 'gateway'])('%s has no scan:read: 403', async (role) => {
    const res = await get(`/v1/findings/${listed[0].id}`, keys.get(role)!);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });

  it.each(['admin', 'analyst', 'viewer'])('%s reads it', async (role) => {
    expect((await get(`/v1/findings/${listed[0].id}`, keys.get(role)!)).statusCode).toBe(200);
  });
});
