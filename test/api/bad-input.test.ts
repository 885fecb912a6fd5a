import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe('bad input: a clear 4xx naming the field, and nothing written', () => {
  let t: TestApp;
  let admin: string;
  let platform: string;
  let counts: string;
  const snapshot = async () =>
    JSON.stringify(
      await t.db.dataSource.query(
        'SELECT (SELECT count(*) FROM api_keys) AS keys, (SELECT count(*) FROM tenants) AS tenants',
      ),
    );
  beforeAll(async () => {
    t = await startTestApp({ env: { AGENT_BOM_MAX_BODY_BYTES: String(64 * 1024) } });
    const tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    platform = (await createKey(t.app, tenant, 'platform-admin')).raw;
  });
  beforeEach(async () => {
    counts = await snapshot();
  });
  afterAll(() => t.close());

  const post = (url: string, body: string, key = admin, contentType = 'application/json') =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(key), 'content-type': contentType },
      payload: body,
    });

  it.each([
    ['malformed JSON', '/v1/auth/keys', '{"role": "viewer"', 400, 'MALFORMED_JSON', undefined],
    ['unknown field', '/v1/auth/keys', '{"role":"viewer","scopes":["*"]}', 400, 'VALIDATION_ERROR', 'scopes'],
    ['wrong type', '/v1/auth/keys', '{"role":"viewer","name":42}', 400, 'VALIDATION_ERROR', 'name'],
    ['unknown role', '/v1/auth/keys', '{"role":"root"}', 400, 'VALIDATION_ERROR', 'role'],
    ['missing role', '/v1/auth/keys', '{}', 400, 'VALIDATION_ERROR', 'role'],
    [
      'bad duration',
      '/v1/auth/keys',
      '{"role":"viewer","expires_in":"forever"}',
      400,
      'VALIDATION_ERROR',
      'expires_in',
    ],
    [
      'duration over a year',
      '/v1/auth/keys',
      '{"role":"viewer","expires_in":"400d"}',
      400,
      'VALIDATION_ERROR',
      'expires_in',
    ],
    [
      'control characters in name',
      '/v1/auth/keys',
      '{"role":"viewer","name":"a\\u0007b"}',
      400,
      'VALIDATION_ERROR',
      'name',
    ],
    [
      'a NUL character',
      '/v1/auth/keys',
      '{"role":"viewer","name":"a\\u0000b"}',
      400,
      'VALIDATION_ERROR',
      undefined,
    ],
    ['array body', '/v1/auth/keys', '[{"role":"viewer"}]', 400, 'VALIDATION_ERROR', undefined],
    [
      'prototype pollution',
      '/v1/auth/keys',
      '{"role":"viewer","__proto__":{"admin":true}}',
      400,
      undefined,
      undefined,
    ],
    [
      'nested junk',
      '/v1/auth/keys',
      `{"role":"viewer","name":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      400,
      'VALIDATION_ERROR',
      undefined,
    ],
  ])('%s → %s', async (_label, url, body, status, code, field) => {
    const res = await post(url, body);
    expect(res.statusCode).toBe(status);
    if (code) expect(res.json().error.code).toBe(code);
    if (field) {
      expect(res.json().error.message).toContain(field);
      expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(res.body).not.toMatch(/at .*\.(js|ts):\d+/); // no stack traces
    expect(await snapshot()).toBe(counts);
  });

  it('an oversized body → 413, nothing written', async () => {
    const res = await post('/v1/auth/keys', JSON.stringify({ role: 'viewer', name: 'x'.repeat(100 * 1024) }));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toBe(counts);
  });

  it('a non-JSON content type → 415', async () => {
    const res = await post('/v1/auth/keys', 'role=viewer', admin, 'application/x-www-form-urlencoded');
    expect(res.statusCode).toBe(415);
    const text = await post('/v1/auth/keys', 'role=viewer', admin, 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await snapshot()).toBe(counts);
  });

  it.each([
    ['a non-UUID key id', 'GET', '/v1/auth/keys/not-a-uuid', 'id'],
    ['a SQL-ish key id', 'DELETE', "/v1/auth/keys/1'%20OR%20'1'='1", 'id'],
    ['a forged cursor', 'GET', '/v1/auth/keys?cursor=eyJhIjoxfQ', 'cursor'],
    ['a limit out of range', 'GET', '/v1/auth/keys?limit=100000', 'limit'],
    ['an unknown query parameter', 'GET', '/v1/auth/keys?tenant=other', 'tenant'],
  ] as const)('%s → 400 naming the field', async (_label, method, url, field) => {
    const res = await t.app.inject({ method, url, headers: bearer(admin) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain(field);
    expect(await snapshot()).toBe(counts);
  });

  it.each([
    ['bad tenant id', '{"id":"Acme Corp"}', 400, 'id'],
    ['reserved tenant id', '{"id":"system"}', 400, 'id'],
    ['too long tenant id', JSON.stringify({ id: 'a'.repeat(64) }), 400, 'id'],
    ['unknown field', '{"id":"fine","plan":"gold"}', 400, 'plan'],
  ])('tenants: %s → %s', async (_label, body, status, field) => {
    const res = await post('/v1/tenants', body, platform);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.message).toContain(field);
    expect(await snapshot()).toBe(counts);
  });

  it('a rotate overlap over 24h is refused and leaves the key as it was', async () => {
    const created = await post('/v1/auth/keys', '{"role":"viewer"}');
    counts = await snapshot();
    const res = await post(`/v1/auth/keys/${created.json().key.id}/rotate`, '{"overlap":"2d"}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('overlap');
    expect(await snapshot()).toBe(counts);
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer(created.json().raw_key),
    });
    expect(me.statusCode).toBe(200);
  });
});
