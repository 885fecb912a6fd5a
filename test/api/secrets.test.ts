import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { everyStoredValue } from '../helpers/stored.js';

describe('the raw key is shown once and stored, logged or returned nowhere else', () => {
  let t: TestApp;
  let admin: string;
  let raw: string;
  let keyId: string;
  const responses: string[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/keys',
      headers: bearer(admin),
      payload: { role: 'gateway', name: 'edge' },
    });
    raw = created.json().raw_key;
    keyId = created.json().key.id;
    // Use the key every way a client can, successfully and not.
    for (const request of [
      { method: 'GET', url: '/v1/auth/me', headers: bearer(raw) },
      { method: 'GET', url: '/v1/auth/me', headers: { 'x-api-key': raw } },
      { method: 'GET', url: '/v1/auth/keys', headers: bearer(raw) },
      { method: 'GET', url: `/v1/auth/keys?cursor=${raw}`, headers: bearer(admin) },
      { method: 'GET', url: '/v1/auth/keys', headers: bearer(admin) },
      { method: 'GET', url: `/v1/auth/keys/${keyId}`, headers: bearer(admin) },
      {
        method: 'POST',
        url: `/v1/auth/keys/${keyId}/rotate`,
        headers: bearer(admin),
        payload: { overlap: '1h' },
      },
      { method: 'GET', url: '/v1/auth/me', headers: bearer(raw + 'x') },
      { method: 'GET', url: '/metrics' },
    ] as const) {
      responses.push((await t.app.inject(request as Parameters<TestApp['app']['inject']>[0])).body);
    }
  });
  afterAll(() => t.close());

  it('is in no response after the one that created it', () => {
    for (const body of responses) expect(body).not.toContain(raw);
  });

  it('is in no log line (logs captured at trace level)', () => {
    expect(t.logs.length).toBeGreaterThan(10);
    const all = t.logs.join('');
    const leaking = t.logs.filter((line) => line.includes(raw.slice(5, 20)));
    expect(leaking).toEqual([]);
    expect(all).not.toContain(raw);
    expect(all).not.toContain(raw.slice(5)); // nor its secret part alone
  });

  it('is in no table: only a salted SHA-256 digest is stored', async () => {
    const stored = await everyStoredValue(t);
    expect(stored).toContain(keyId);
    expect(stored).not.toContain(raw);
    expect(stored).not.toContain(raw.slice(5));
    const [row] = await t.db.dataSource.query('SELECT secret_hash FROM api_keys WHERE id = $1', [keyId]);
    expect(row.secret_hash).toMatch(/^sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });
});
