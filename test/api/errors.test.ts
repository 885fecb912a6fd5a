import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('error envelope and request ids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('an unknown route is a 404 in the envelope with the request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'route not found', request_id: res.headers['x-request-id'] },
    });
  });

  it('echoes a plain x-request-id, on success and on error', async () => {
    for (const url of ['/healthz', '/v1/auth/me']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { 'x-request-id': 'trace-abc.123' } });
      expect(res.headers['x-request-id']).toBe('trace-abc.123');
    }
    const err = await t.app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    expect(err.json().error.request_id).toBe('trace-abc.123');
  });

  it.each([['with spaces and <script>'], ['x'.repeat(200)], ['line\\nbreak']])(
    'replaces a hostile x-request-id (%s) with a fresh one',
    async (hostile) => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': hostile },
      });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('sets nosniff everywhere and no-store on /v1', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/auth/me' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
