import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { verifyChain, verifyExportWithCli } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

interface Item {
  seq: number;
  event: {
    type: string;
    origin: string;
    actor: { subject: string; role: string; key_id?: string; tenant_id: string; method: string };
    resource_type?: string;
    resource_id?: string;
    details?: Record<string, unknown>;
  };
}

describe('control-plane actions are in the ledger, with their actor, atomically, and without secrets', () => {
  let t: TestApp;
  let tenant: string;
  let admin: { raw: string; id: string };
  let platform: string;
  const rawKeys: string[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    admin = await createKey(t.app, tenant, 'admin', { name: 'ops-admin' });
    platform = (await createKey(t.app, tenant, 'platform-admin')).raw;
    rawKeys.push(admin.raw, platform);
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const ledger = async (key: string, query = '?origin=control_plane&limit=500'): Promise<Item[]> =>
    (await call('GET', `/v1/audit${query}`, key)).json().items;

  it('key created, rotated and revoked through the API: one entry each, naming the admin key that did it', async () => {
    const created = await call('POST', '/v1/auth/keys', admin.raw, {
      role: 'gateway',
      name: 'edge',
      expires_in: '30d',
    });
    const keyId = created.json().key.id;
    rawKeys.push(created.json().raw_key);
    const rotated = await call('POST', `/v1/auth/keys/${keyId}/rotate`, admin.raw, { overlap: '1h' });
    const newId = rotated.json().key.id;
    rawKeys.push(rotated.json().raw_key);
    expect((await call('DELETE', `/v1/auth/keys/${newId}`, admin.raw)).statusCode).toBe(200);
    expect((await call('DELETE', `/v1/auth/keys/${newId}`, admin.raw)).statusCode).toBe(200); // idempotent

    const items = (await ledger(admin.raw)).filter((i) => [keyId, newId].includes(i.event.resource_id!));
    const actor = {
      subject: 'key:ops-admin',
      role: 'admin',
      key_id: admin.id,
      tenant_id: tenant,
      method: 'api_key',
    };
    expect(items.map((i) => i.event).reverse()).toEqual([
      expect.objectContaining({
        type: 'api_key.created',
        resource_type: 'api_key',
        resource_id: keyId,
        actor,
        details: { role: 'gateway', name: 'edge', expires_at: created.json().key.expires_at },
      }),
      expect.objectContaining({
        type: 'api_key.rotated',
        resource_id: keyId,
        actor,
        details: { replaced_by: newId, role: 'gateway', name: 'edge', overlap_until: expect.any(String) },
      }),
      expect.objectContaining({ type: 'api_key.revoked', resource_id: newId, actor }),
    ]);
  });

  it('a tenant created through the API opens its own chain, with the creator from another tenant as actor', async () => {
    const res = await call('POST', '/v1/tenants', platform, { id: 'audited-co', create_admin_key: true });
    expect(res.statusCode).toBe(201);
    const newAdmin = res.json().admin_key.raw_key;
    rawKeys.push(newAdmin);
    const items = (await ledger(newAdmin)).reverse();
    expect(items.map((i) => [i.seq, i.event.type])).toEqual([
      [1, 'tenant.created'],
      [2, 'api_key.created'],
    ]);
    expect(items[0].event).toMatchObject({
      resource_type: 'tenant',
      resource_id: 'audited-co',
      actor: { role: 'platform-admin', tenant_id: tenant },
    });
    expect(items[1].event.details).toMatchObject({ role: 'admin', name: 'first-admin' });
    expect(await verifyChain(t, newAdmin)).toMatchObject({ ok: true, verified_from: 1, verified_to: 2 });
    // Not in the creator's tenant: each tenant's chain holds its own history.
    expect((await ledger(platform)).some((i) => i.event.resource_id === 'audited-co')).toBe(false);
  });

  it('a refused action records nothing', async () => {
    const before = (await verifyChain(t, admin.raw)).verified_to;
    expect((await call('POST', '/v1/auth/keys', admin.raw, { role: 'platform-admin' })).statusCode).toBe(403);
    expect((await call('POST', '/v1/auth/keys', admin.raw, { role: 'root' })).statusCode).toBe(400);
    expect(
      (await call('DELETE', '/v1/auth/keys/2f1e0c9a-5b7d-4e3f-8a21-9c0d1e2f3a4b', admin.raw)).statusCode,
    ).toBe(404);
    expect((await call('POST', '/v1/tenants', platform, { id: 'audited-co' })).statusCode).toBe(409);
    expect((await verifyChain(t, admin.raw)).verified_to).toBe(before);
  });

  describe('when the audit write fails, the action does not happen', () => {
    let victim: { raw: string; id: string };
    beforeAll(async () => {
      victim = await createKey(t.app, tenant, 'viewer');
      rawKeys.push(victim.raw);
      // A fault only in this test database: any audit insert for this tenant fails.
      await t.db.dataSource.query(`
        CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.tenant_id = '${tenant}' OR NEW.tenant_id = 'doomed-co' THEN
            RAISE EXCEPTION 'injected audit failure';
          END IF;
          RETURN NEW;
        END $$`);
      await t.db.dataSource.query(
        'CREATE TRIGGER fail_audit BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION fail_audit()',
      );
    });
    afterAll(async () => {
      await t.db.dataSource.query('DROP TRIGGER fail_audit ON audit_entries');
      await t.db.dataSource.query('DROP FUNCTION fail_audit()');
    });

    const keysRows = async () =>
      t.db.dataSource.query(
        'SELECT id, revoked_at, replaced_by FROM api_keys WHERE tenant_id = $1 ORDER BY id',
        [tenant],
      );

    it('key creation fails whole: 500, no key row', async () => {
      const before = await keysRows();
      const res = await call('POST', '/v1/auth/keys', admin.raw, { role: 'viewer' });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'internal error' });
      expect(await keysRows()).toEqual(before);
    });

    it('revocation and rotation fail whole: the key stays as it was', async () => {
      const before = await keysRows();
      expect((await call('DELETE', `/v1/auth/keys/${victim.id}`, admin.raw)).statusCode).toBe(500);
      expect((await call('POST', `/v1/auth/keys/${victim.id}/rotate`, admin.raw, {})).statusCode).toBe(500);
      expect(await keysRows()).toEqual(before);
      expect((await call('GET', '/v1/auth/me', victim.raw)).statusCode).toBe(200);
    });

    it('tenant creation fails whole: no tenant row', async () => {
      expect((await call('POST', '/v1/tenants', platform, { id: 'doomed-co' })).statusCode).toBe(500);
      expect(await t.db.dataSource.query(`SELECT id FROM tenants WHERE id = 'doomed-co'`)).toEqual([]);
    });
  });

  it('no raw key appears in the ledger, its API or its export', async () => {
    const stored = JSON.stringify(await t.db.dataSource.query('SELECT * FROM audit_entries'));
    const listed = (await call('GET', '/v1/audit?limit=500', admin.raw)).body;
    const exported = await verifyExportWithCli(t, admin.raw);
    expect(exported.code).toBe(0);
    for (const raw of rawKeys) {
      for (const text of [stored, listed, exported.lines.join('\n')]) {
        expect(text).not.toContain(raw);
        expect(text).not.toContain(raw.slice(5, 17)); // not even the lookup prefix
      }
    }
  });
});
