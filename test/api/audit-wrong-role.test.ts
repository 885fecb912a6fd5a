import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Role } from '../../libs/contracts/src/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { auditEvent } from '../helpers/audit.js';
import { bearer, createKey, createTenant } from '../helpers/factories.js';

type Method = 'GET' | 'POST';
const READS: Array<[Method, string]> = [
  ['GET', '/v1/audit'],
  ['GET', '/v1/audit/verify'],
  ['GET', '/v1/audit/export'],
  ['GET', '/v1/audit/verification-key'],
  ['GET', '/v1/audit/trends'],
];
const WRITE: [Method, string] = ['POST', '/v1/proxy/audit'];

/** Who may do what: audit:write = proxy and gateway only (no human role); audit:read = analyst+. */
const ALLOWED: Record<Exclude<Role, 'platform-admin'>, { write: boolean; read: boolean }> = {
  admin: { write: false, read: true },
  analyst: { write: false, read: true },
  viewer: { write: false, read: false },
  'fleet-push': { write: false, read: false },
  proxy: { write: true, read: false },
  gateway: { write: true, read: false },
};

describe('audit wrong role: a valid key without the permission gets 403 and writes nothing', () => {
  let t: TestApp;
  const keys = new Map<Role, string>();
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    for (const role of Object.keys(ALLOWED) as Role[])
      keys.set(role, (await createKey(t.app, tenant, role)).raw);
  });
  afterAll(() => t.close());

  const entries = async () =>
    (await t.db.dataSource.query('SELECT count(*)::int AS n FROM audit_entries'))[0].n;
  const call = (role: Role, [method, url]: [Method, string]) =>
    t.app.inject({
      method,
      url,
      headers: bearer(keys.get(role)!),
      ...(method === 'POST' ? { payload: { source_id: 'x', events: [auditEvent()] } } : {}),
    });

  const cases = (Object.entries(ALLOWED) as Array<[Role, { write: boolean; read: boolean }]>).flatMap(
    ([role, allowed]) => [
      [role, WRITE, allowed.write] as const,
      ...READS.map((route) => [role, route, allowed.read] as const),
    ],
  );

  it.each(cases.filter(([, , allowed]) => !allowed))('%s: %j → 403', async (role, route) => {
    const before = await entries();
    const res = await call(role, route);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(await entries()).toBe(before);
  });

  it.each(cases.filter(([, , allowed]) => allowed))('%s: %j is allowed', async (role, route) => {
    const res = await call(role, route);
    expect(res.statusCode).toBe(200);
  });

  it('a fleet-push key on a laptop can neither push nor read audit', async () => {
    for (const route of [WRITE, ...READS]) expect((await call('fleet-push', route)).statusCode).toBe(403);
  });
});
