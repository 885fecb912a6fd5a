import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BASELINE_POLICY } from '../../libs/policy/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { verifyChain } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';
import { api, policyCounts, policyDocument, POLICIES } from '../helpers/policy.js';

const shellDeny = policyDocument([{ id: 'no-shell', effect: 'deny', tools: ['run_shell', 'shell_*'] }]);

interface LedgerItem {
  event: {
    type: string;
    resource_type?: string;
    resource_id?: string;
    actor: { subject: string; role: string };
    details?: Record<string, unknown>;
  };
}

describe('policies: versions, history, preconditions, compile errors and audit', () => {
  let t: TestApp;
  let tenant: string;
  let admin: ReturnType<typeof api>;
  let adminKey: string;
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    adminKey = (await createKey(t.app, tenant, 'admin', { name: 'policy-admin' })).raw;
    admin = api(t, adminKey);
  });
  afterAll(() => t.close());

  const ledger = async (): Promise<LedgerItem[]> =>
    (
      await t.app.inject({
        method: 'GET',
        url: '/v1/audit?origin=control_plane&limit=200',
        headers: bearer(adminKey),
      })
    ).json().items;

  it('creates version 1: 201, the stored document, an ETag of the version, bundle version 1', async () => {
    const res = await admin.create({ name: 'shell', description: 'No shells', document: shellDeny });
    expect(res.statusCode).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toMatchObject({
      tenant_id: tenant,
      name: 'shell',
      description: 'No shells',
      enabled: true,
      bindings: null,
      version: 1,
      deleted: false,
      bundle_version: 1,
      updated_by: 'key:policy-admin',
      document: shellDeny,
    });
    expect(res.json().created_at).toBe(res.json().updated_at);
    expect((await admin.get(res.json().id)).json()).toEqual(res.json()); // what a write returns is what is stored
  });

  it('keeps the document exactly as written (member order too)', async () => {
    const text = '{"rules":[{"tools":["x"],"id":"r","effect":"deny"}],"version":1}';
    const res = await t.app.inject({
      method: 'POST',
      url: POLICIES,
      headers: { ...bearer(adminKey), 'content-type': 'application/json' },
      payload: `{"name":"verbatim","document":${text}}`,
    });
    expect(res.statusCode).toBe(201);
    const got = await admin.get(res.json().id);
    expect(JSON.stringify(got.json().document)).toBe(text);
  });

  it('every change is a new immutable version; history is readable; DELETE is a tombstone', async () => {
    const created = (await admin.create({ name: 'lifecycle', document: shellDeny })).json();
    const id = created.id;
    const v2doc = policyDocument([{ id: 'no-shell', effect: 'warn', tools: ['run_shell'] }]);
    const v2 = await admin.put(id, { name: 'lifecycle', document: v2doc });
    expect(v2.statusCode).toBe(200);
    expect(v2.headers.etag).toBe('"2"');
    expect(v2.json()).toMatchObject({ version: 2, document: v2doc, created_at: created.created_at });
    expect(v2.json().bundle_version).toBe(created.bundle_version + 1);

    const v3 = await admin.put(id, { name: 'lifecycle-renamed', enabled: false, document: v2doc });
    expect(v3.json()).toMatchObject({ version: 3, name: 'lifecycle-renamed', enabled: false });

    expect((await admin.get(id)).json()).toEqual(v3.json());

    const gone = await admin.remove(id);
    expect(gone.statusCode).toBe(200);
    expect((await admin.get(id, '?version=4')).json()).toEqual(gone.json());
    expect(gone.json()).toMatchObject({ version: 4, deleted: true, name: 'lifecycle-renamed' });

    // Current is gone; every version, the tombstone included, is still readable.
    expect((await admin.get(id)).statusCode).toBe(404);
    expect((await admin.get(id, '?version=1')).json()).toMatchObject({ version: 1, document: shellDeny });
    expect((await admin.get(id, '?version=2')).json()).toMatchObject({ version: 2, document: v2doc });
    expect((await admin.get(id, '?version=4')).json()).toMatchObject({ version: 4, deleted: true });
    expect((await admin.get(id, '?version=5')).statusCode).toBe(404);
    const versions = await admin.call('GET', `${POLICIES}/${id}/versions`);
    expect(
      versions
        .json()
        .items.map((v: { version: number; deleted: boolean; rule_count: number }) => [
          v.version,
          v.deleted,
          v.rule_count,
        ]),
    ).toEqual([
      [4, true, 1],
      [3, false, 1],
      [2, false, 1],
      [1, false, 1],
    ]);
    expect(versions.json().items[0]).not.toHaveProperty('document');

    // A deleted policy cannot be changed or deleted again, and its name is free again.
    expect((await admin.put(id, { name: 'lifecycle', document: v2doc })).statusCode).toBe(404);
    expect((await admin.remove(id)).statusCode).toBe(404);
    expect((await admin.create({ name: 'lifecycle-renamed', document: v2doc })).statusCode).toBe(201);
  });

  it('pages versions with a cursor, newest first, without gaps', async () => {
    const id = (await admin.create({ name: 'paged', document: shellDeny })).json().id;
    for (let i = 0; i < 4; i++) {
      await admin.put(id, { name: 'paged', description: `rev ${i}`, document: shellDeny });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await admin.call('GET', `${POLICIES}/${id}/versions${query}`)).json();
      seen.push(...page.items.map((v: { version: number }) => v.version));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
  });

  it('lists live policies by name with a cursor, without documents', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${POLICIES}?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await admin.call('GET', url)).json() as {
        items: Array<{ name: string }>;
        next_cursor: string | null;
      };
      names.push(...page.items.map((p) => p.name));
      for (const item of page.items) expect(item).not.toHaveProperty('document');
      cursor = page.next_cursor;
    } while (cursor);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['shell', 'verbatim', 'paged', 'lifecycle-renamed']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('a PUT of the current content writes nothing: same version, same bundle', async () => {
    const created = (await admin.create({ name: 'idempotent', document: shellDeny })).json();
    const before = await policyCounts(t);
    const again = await admin.put(created.id, { name: 'idempotent', enabled: true, document: shellDeny });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, bundle_version: created.bundle_version });
    expect(await policyCounts(t)).toBe(before);
  });

  describe('optimistic concurrency', () => {
    let id: string;
    beforeAll(async () => {
      id = (await admin.create({ name: 'guarded', document: shellDeny })).json().id;
      await admin.put(id, { name: 'guarded', description: 'v2', document: shellDeny });
    });

    it.each([
      ['If-Match', { 'if-match': '"1"' }, {}],
      ['expected_version', {}, { expected_version: 1 }],
    ])(
      'a stale %s is a 409 naming the current version, and writes nothing',
      async (_label, headers, extra) => {
        const before = await policyCounts(t);
        const res = await admin.put(
          id,
          { name: 'guarded', description: 'stale', document: shellDeny, ...extra },
          headers,
        );
        expect(res.statusCode).toBe(409);
        expect(res.json().error).toMatchObject({
          code: 'CONFLICT',
          details: { expected_version: 1, current_version: 2 },
        });
        const del = await admin.remove(id, headers, extra);
        expect(del.statusCode).toBe(409);
        expect(await policyCounts(t)).toBe(before);
      },
    );

    it('the current version (from the GET ETag) is accepted', async () => {
      const etag = String((await admin.get(id)).headers.etag);
      expect(etag).toBe('"2"');
      const res = await admin.put(
        id,
        { name: 'guarded', description: 'v3', document: shellDeny },
        { 'if-match': etag },
      );
      expect(res.json().version).toBe(3);
      const del = await admin.remove(id, { 'if-match': '"3"' });
      expect(del.json()).toMatchObject({ version: 4, deleted: true });
    });

    it('two writers racing from one version: exactly one wins', async () => {
      const race = (await admin.create({ name: 'race', document: shellDeny })).json().id;
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((d) =>
          admin.put(race, { name: 'race', description: d, document: shellDeny }, { 'if-match': '"1"' }),
        ),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409]);
      expect((await admin.get(race)).json().version).toBe(2);
    });
  });

  it('names are unique among live policies: 409', async () => {
    const before = await policyCounts(t);
    const res = await admin.create({ name: 'shell', document: shellDeny });
    expect(res.statusCode).toBe(409);
    const other = (await admin.create({ name: 'other', document: shellDeny })).json().id;
    const after = await policyCounts(t);
    expect((await admin.put(other, { name: 'shell', document: shellDeny })).statusCode).toBe(409);
    expect(await policyCounts(t)).toBe(after);
    expect(after).not.toBe(before);
  });

  it('a document that does not compile is a 400 naming each rule id and field; nothing is written', async () => {
    const before = await policyCounts(t);
    const res = await admin.create({
      name: 'broken',
      document: {
        version: 1,
        rules: [
          { id: 'ok', effect: 'deny', tools: ['x'] },
          { id: 'redos', effect: 'deny', tools: ['/(a+)+$/'] },
          { id: 'typo', effect: 'deny', tool: ['x'] },
          { id: 'ok', effect: 'allow' },
          { id: 'args', effect: 'deny', arguments: [{ path: '$..[', op: 'equals', value: 1 }] },
        ],
      },
    });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toContain('document.rules.1.tools.0 (rule "redos")');
    const details = error.details.map((d: { field: string; rule_id?: string }) => [d.field, d.rule_id]);
    expect(details).toEqual(
      expect.arrayContaining([
        ['document.rules.1.tools.0', 'redos'],
        ['document.rules.2', 'typo'],
        ['document.rules.3.id', 'ok'],
        ['document.rules.4.arguments.0.path', 'args'],
      ]),
    );
    expect(await policyCounts(t)).toBe(before);
  });

  it('the baseline pack is accepted as it ships', async () => {
    const res = await admin.create({ name: 'baseline', document: BASELINE_POLICY });
    expect(res.statusCode).toBe(201);
    expect(res.json().document).toEqual(BASELINE_POLICY);
  });

  it('policy versions are immutable in the database too', async () => {
    await expect(t.db.dataSource.query(`UPDATE policy_versions SET enabled = NOT enabled`)).rejects.toThrow(
      /immutable/,
    );
    await expect(t.db.dataSource.query(`DELETE FROM policy_versions`)).rejects.toThrow(/immutable/);
  });

  it('creates, updates and deletes are in the ledger, with actor and details, and the chain verifies', async () => {
    const id = (await admin.create({ name: 'audited', document: shellDeny })).json().id;
    await admin.put(id, { name: 'audited', enabled: false, document: shellDeny });
    await admin.remove(id);
    const items = (await ledger()).filter((i) => i.event.resource_id === id).reverse();
    expect(items.map((i) => i.event)).toEqual([
      expect.objectContaining({
        type: 'policy.created',
        resource_type: 'policy',
        actor: expect.objectContaining({ subject: 'key:policy-admin', role: 'admin' }),
        details: expect.objectContaining({ name: 'audited', version: 1, enabled: true, rules: 1 }),
      }),
      expect.objectContaining({
        type: 'policy.updated',
        details: expect.objectContaining({ version: 2, enabled: false, changed: ['enabled'] }),
      }),
      expect.objectContaining({ type: 'policy.deleted', details: expect.objectContaining({ version: 3 }) }),
    ]);
    const bundles = items.map((i) => i.event.details!.bundle_version as number);
    expect(bundles[1]).toBe(bundles[0] + 1);
    expect(bundles[2]).toBe(bundles[1] + 1);
    expect((await verifyChain(t, adminKey)).ok).toBe(true);
  });

  describe('when the audit write fails, the policy change does not happen', () => {
    let id: string;
    beforeAll(async () => {
      id = (await admin.create({ name: 'doomed', document: shellDeny })).json().id;
      await t.db.dataSource.query(`
        CREATE FUNCTION fail_policy_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.tenant_id = '${tenant}' AND NEW.event->>'type' LIKE 'policy.%' THEN
            RAISE EXCEPTION 'injected audit failure';
          END IF;
          RETURN NEW;
        END $$`);
      await t.db.dataSource.query(
        'CREATE TRIGGER fail_policy_audit BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION fail_policy_audit()',
      );
    });
    afterAll(async () => {
      await t.db.dataSource.query('DROP TRIGGER fail_policy_audit ON audit_entries');
      await t.db.dataSource.query('DROP FUNCTION fail_policy_audit()');
    });

    it('create, update and delete each fail whole: 500, no version, no bundle bump', async () => {
      const before = await policyCounts(t);
      const bundle = (await admin.bundle()).headers.etag;
      const created = await admin.create({ name: 'never', document: shellDeny });
      expect(created.statusCode).toBe(500);
      expect(created.json().error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'internal error' });
      expect((await admin.put(id, { name: 'doomed', enabled: false, document: shellDeny })).statusCode).toBe(
        500,
      );
      expect((await admin.remove(id)).statusCode).toBe(500);
      expect(await policyCounts(t)).toBe(before);
      expect((await admin.get(id)).json()).toMatchObject({ version: 1, enabled: true, deleted: false });
      expect((await admin.bundle()).headers.etag).toBe(bundle);
      expect(JSON.stringify(await t.db.dataSource.query(`SELECT 1 FROM policies WHERE name = 'never'`))).toBe(
        '[]',
      );
    });
  });
});
