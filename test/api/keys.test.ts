import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuthGuard } from '../../src/core/auth/auth.guard.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

describe('API keys: create, list, revoke, rotate, expire', () => {
  let t: TestApp;
  let tenant: string;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    admin = (await createKey(t.app, tenant, 'admin')).raw;
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

  it('GET /v1/auth/me shows the tenant and role of the key', async () => {
    const res = await call('GET', '/v1/auth/me', admin);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenant_id: tenant, role: 'admin', auth_method: 'api_key' });
    expect(res.json().permissions).toContain('keys:manage');
  });

  it('creates a key that works at once, returns the raw key once, and lists it without the secret', async () => {
    const created = await call('POST', '/v1/auth/keys', admin, {
      role: 'viewer',
      name: 'dashboard',
      expires_in: '30d',
    });
    expect(created.statusCode).toBe(201);
    const { key, raw_key } = created.json();
    expect(raw_key).toMatch(/^abom_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ tenant_id: tenant, role: 'viewer', name: 'dashboard', status: 'active' });
    expect(new Date(key.expires_at).getTime() - Date.now()).toBeGreaterThan(29 * 86400_000);
    expect(raw_key.startsWith(key.prefix)).toBe(true);

    const me = await call('GET', '/v1/auth/me', raw_key);
    expect(me.json()).toMatchObject({ tenant_id: tenant, role: 'viewer', key_id: key.id });

    const listed = await call('GET', '/v1/auth/keys', admin);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(raw_key);
    expect(listed.body).not.toContain('secret_hash');
    expect(listed.json().items.map((k: { id: string }) => k.id)).toContain(key.id);

    // last_used_at is written off the request path; give it a moment.
    let lastUsed: string | null = null;
    for (let i = 0; i < 40 && !lastUsed; i++) {
      lastUsed = (await call('GET', `/v1/auth/keys/${key.id}`, admin)).json().last_used_at;
      if (!lastUsed) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(lastUsed).not.toBeNull();
  });

  it('paginates with an opaque cursor and no duplicates or gaps', async () => {
    const other = await createTenant(t.app);
    const otherAdmin = (await createKey(t.app, other, 'admin')).raw;
    for (let i = 0; i < 5; i++) await createKey(t.app, other, 'viewer', { name: `k${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/auth/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('GET', url, otherAdmin);
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((k: { id: string }) => k.id));
      cursor = page.json().next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it('revokes a key: it stops working at once on this replica, and revoking again is harmless', async () => {
    const { raw, id } = await createKey(t.app, tenant, 'analyst');
    expect((await call('GET', '/v1/auth/me', raw)).statusCode).toBe(200); // now cached
    const revoked = await call('DELETE', `/v1/auth/keys/${id}`, admin);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().status).toBe('revoked');
    expect((await call('GET', '/v1/auth/me', raw)).statusCode).toBe(401);
    const again = await call('DELETE', `/v1/auth/keys/${id}`, admin);
    expect(again.statusCode).toBe(200);
    expect(again.json().revoked_at).toBe(revoked.json().revoked_at);
  });

  it('a key verified before is admitted from memory, synchronously, as itself; anything else goes the full way', async () => {
    const guard = t.app.get(AuthGuard);
    const other = await createTenant(t.app);
    const mine = await createKey(t.app, tenant, 'analyst');
    const theirs = await createKey(t.app, other, 'viewer');
    const request = (headers: Record<string, string>) =>
      ({ method: 'GET', headers }) as Parameters<AuthGuard['authenticateCached']>[0];
    // Not verified yet on this replica: only the full path may decide.
    expect(guard.authenticateCached(request(bearer(mine.raw)))).toBeUndefined();
    expect((await call('GET', '/v1/auth/me', mine.raw)).statusCode).toBe(200);
    expect((await call('GET', '/v1/auth/me', theirs.raw)).statusCode).toBe(200);
    const req = request(bearer(mine.raw));
    const admitted = guard.authenticateCached(req);
    expect(admitted).not.toBeInstanceOf(Promise);
    expect(admitted).toMatchObject({
      tenantId: tenant,
      role: 'analyst',
      keyId: mine.id,
      authMethod: 'api_key',
    });
    expect((req as { principal?: unknown }).principal).toBe(admitted);
    expect(guard.authenticateCached(request({ 'x-api-key': theirs.raw }))).toMatchObject({
      tenantId: other,
      role: 'viewer',
    });
    // A changed character, another shape, no credential, a cookie: never from memory.
    const last = mine.raw.endsWith('A') ? 'B' : 'A';
    for (const headers of [
      bearer(mine.raw.slice(0, -1) + last),
      bearer('eyJhbGciOiJSUzI1NiJ9.e30.sig'),
      bearer(`scim_${mine.raw}`),
      {},
      { cookie: `abom_session=${mine.raw}` },
    ] as Record<string, string>[]) {
      expect(guard.authenticateCached(request(headers))).toBeUndefined();
    }
    // Revoked here: the very next request is refused, from memory or not.
    await call('DELETE', `/v1/auth/keys/${mine.id}`, admin);
    expect(guard.authenticateCached(request(bearer(mine.raw)))).toBeUndefined();
    expect((await call('GET', '/v1/auth/me', mine.raw)).statusCode).toBe(401);
    expect((await call('GET', '/v1/auth/me', theirs.raw)).json()).toMatchObject({ tenant_id: other });
  });

  it('rotates without overlap: the old key dies, the new one works with the same role and name', async () => {
    const { raw, id } = await createKey(t.app, tenant, 'proxy', { name: 'sidecar' });
    const rotated = await call('POST', `/v1/auth/keys/${id}/rotate`, admin, {});
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json().key).toMatchObject({ role: 'proxy', name: 'sidecar', status: 'active' });
    expect((await call('GET', '/v1/auth/me', raw)).statusCode).toBe(401);
    expect((await call('GET', '/v1/auth/me', rotated.json().raw_key)).statusCode).toBe(200);
    const old = await call('GET', `/v1/auth/keys/${id}`, admin);
    expect(old.json()).toMatchObject({ status: 'revoked', replaced_by: rotated.json().key.id });
    const twice = await call('POST', `/v1/auth/keys/${id}/rotate`, admin, {});
    expect(twice.statusCode).toBe(409);
  });

  it('rotates with overlap: both keys work until the overlap ends', async () => {
    const { raw, id } = await createKey(t.app, tenant, 'gateway');
    const rotated = await call('POST', `/v1/auth/keys/${id}/rotate`, admin, { overlap: '1h' });
    expect(rotated.statusCode).toBe(201);
    expect((await call('GET', '/v1/auth/me', raw)).statusCode).toBe(200);
    expect((await call('GET', '/v1/auth/me', rotated.json().raw_key)).statusCode).toBe(200);
    const old = await call('GET', `/v1/auth/keys/${id}`, admin);
    expect(old.json().status).toBe('rotating');
    // End the overlap in the database, as time passing would; a fresh replica (no cache) must refuse it.
    await t.db.dataSource.query(
      `UPDATE api_keys SET overlap_until = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const fresh = await startTestApp({ db: t.db });
    try {
      const res = await fresh.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(raw) });
      expect(res.statusCode).toBe(401);
    } finally {
      await fresh.close();
    }
  });

  it('an expired key is a 401', async () => {
    const { raw, id } = await createKey(t.app, tenant, 'viewer', { expires_in: '1h' });
    await t.db.dataSource.query(
      `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const fresh = await startTestApp({ db: t.db });
    try {
      const res = await fresh.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(raw) });
      expect(res.statusCode).toBe(401);
      const listed = await fresh.app.inject({
        method: 'GET',
        url: `/v1/auth/keys/${id}`,
        headers: bearer(admin),
      });
      expect(listed.json().status).toBe('expired');
    } finally {
      await fresh.close();
    }
  });
});

describe('revocation seen by another replica', () => {
  it('takes effect within the cache TTL (AGENT_BOM_AUTH_CACHE_TTL_SECONDS)', async () => {
    const a = await startTestApp({ env: { AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '1' } });
    const b = await startTestApp({ db: a.db, env: { AGENT_BOM_AUTH_CACHE_TTL_SECONDS: '1' } });
    try {
      const tenant = await createTenant(a.app);
      const admin = (await createKey(a.app, tenant, 'admin')).raw;
      const { raw, id } = await createKey(a.app, tenant, 'viewer');
      const me = (app: TestApp) =>
        app.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(raw) });
      expect((await me(b)).statusCode).toBe(200); // replica B caches the key
      await a.app.inject({ method: 'DELETE', url: `/v1/auth/keys/${id}`, headers: bearer(admin) });
      expect((await me(a)).statusCode).toBe(401); // at once where it was revoked
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await me(b)).statusCode).toBe(401); // within the TTL everywhere else
    } finally {
      await b.close();
      await a.close();
    }
  });
});
