import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BundleVerificationError,
  compilePolicy,
  evaluate,
  verifyBundle,
  type SignedBundle,
} from '../../libs/policy/src/index.js';
import { BundleVersions } from '../../src/modules/policy/bundle-versions.js';
import type { Principal } from '../../src/core/auth/principal.js';
import { PolicyBundleService, type ServedBundle } from '../../src/modules/policy/policy-bundle.service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createKey, createTenant } from '../helpers/factories.js';
import { api, fetchBundle, policyDocument, servedKeys } from '../helpers/policy.js';

const codeOf = (run: () => unknown): string => {
  try {
    run();
    return 'none';
  } catch (error) {
    if (error instanceof BundleVerificationError) return error.code;
    throw error;
  }
};

const shellDeny = policyDocument([{ id: 'no-shell', effect: 'deny', tools: ['run_shell'] }]);

describe('policy bundles: signed, verifiable with the served keys, versioned, cacheable', () => {
  let t: TestApp;
  let tenant: string;
  let admin: ReturnType<typeof api>;
  let proxy: ReturnType<typeof api>;
  let proxyKey: string;
  beforeAll(async () => {
    t = await startTestApp();
    tenant = await createTenant(t.app);
    admin = api(t, (await createKey(t.app, tenant, 'admin')).raw);
    proxyKey = (await createKey(t.app, tenant, 'proxy')).raw;
    proxy = api(t, proxyKey);
  });
  afterAll(() => t.close());

  it('a tenant with no policy gets version 0: the empty default-allow document, signed, with an ETag', async () => {
    const res = await proxy.bundle();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    const bundle = res.json() as SignedBundle;
    const { body, fromPem } = await servedKeys(t, proxyKey);
    expect(res.headers.etag).toBe(`"0.${body.current_key_id}"`);
    expect(bundle).toMatchObject({ key_id: body.current_key_id, alg: 'Ed25519' });
    const payload = verifyBundle(bundle, { keys: fromPem, now: Date.now(), tenantId: tenant });
    expect(payload).toMatchObject({ tenant_id: tenant, version: 0, policy: { version: 1, rules: [] } });
    const ttl = Date.parse(payload.expires_at) - Date.parse(payload.issued_at);
    expect(ttl).toBe(86400 * 1000);
    expect(Math.abs(Date.parse(payload.issued_at) - Date.now())).toBeLessThan(60_000);
    const again = await proxy.bundle({ 'if-none-match': String(res.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it('serves the current key and its JWK; the served bundle verifies with keys parsed from either', async () => {
    await admin.create({ name: 'shell', document: shellDeny });
    const { bundle } = await fetchBundle(t, proxyKey);
    const { body, fromPem, fromJwk } = await servedKeys(t, proxyKey);
    expect(body.keys).toEqual([
      {
        key_id: body.current_key_id,
        alg: 'Ed25519',
        public_key_pem: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\n/),
        jwk: expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: body.current_key_id, alg: 'EdDSA' }),
      },
    ]);
    expect(JSON.stringify(body)).not.toContain('PRIVATE');
    for (const keys of [fromPem, fromJwk]) {
      expect(verifyBundle(bundle, { keys, now: Date.now(), tenantId: tenant }).policy.rules).toEqual([
        { id: 'shell/no-shell', effect: 'deny', tools: ['run_shell'] },
      ]);
    }
  });

  it('the version grows by one on every change, and only on a change', async () => {
    const version = async () => (await fetchBundle(t, proxyKey)).bundle.payload.version;
    const start = await version();
    const id = (await admin.create({ name: 'counted', document: shellDeny })).json().id;
    expect(await version()).toBe(start + 1);
    await admin.put(id, { name: 'counted', description: 'changed', document: shellDeny });
    expect(await version()).toBe(start + 2);
    await admin.put(id, { name: 'counted', description: 'changed', document: shellDeny }); // no change
    expect(await version()).toBe(start + 2);
    await admin.create({ name: 'counted', document: shellDeny }); // refused: duplicate name
    await admin.create({ name: 'bad', document: { version: 2, rules: [] } }); // refused: does not compile
    expect(await version()).toBe(start + 2);
    await admin.put(id, { name: 'counted', enabled: false, document: shellDeny });
    expect(await version()).toBe(start + 3);
    await admin.remove(id);
    expect(await version()).toBe(start + 4);
  });

  it('carries only enabled, live policies, merged: rules renamed <policy>/<rule>, most restrictive default', async () => {
    const strict = (
      await admin.create({
        name: 'strict',
        document: policyDocument([{ id: 'reads', effect: 'allow', tools: ['read_*'] }], {
          default_effect: 'deny',
        }),
      })
    ).json();
    await admin.create({ name: 'off', enabled: false, document: shellDeny });
    await admin.create({
      name: 'prod',
      bindings: { environments: ['prod'] },
      document: policyDocument([{ id: 'deploys', effect: 'deny', tools: ['deploy'] }]),
    });
    const { bundle } = await fetchBundle(t, proxyKey);
    const policy = bundle.payload.policy;
    expect(policy.default_effect).toBe('deny');
    const ids = policy.rules.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['strict/reads', 'prod/deploys', 'shell/no-shell']));
    expect(ids.some((id) => id.startsWith('off/'))).toBe(false);
    expect(policy.rules.find((r) => r.id === 'prod/deploys')?.bindings).toEqual({ environments: ['prod'] });

    // What a proxy does with it: compile and decide.
    const compiled = compilePolicy(policy);
    expect(evaluate(compiled, { method: 'tools/call', tool: 'read_file' }).effect).toBe('allow');
    expect(evaluate(compiled, { method: 'tools/call', tool: 'write_file' }).effect).toBe('deny');
    expect(
      evaluate(compiled, { method: 'tools/call', tool: 'deploy' }, { environment: 'prod' }).rule_id,
    ).toBe('prod/deploys');
    await admin.remove(strict.id);
    expect((await fetchBundle(t, proxyKey)).bundle.payload.policy.default_effect).toBeUndefined();
  });

  it('ETag flow: 304 for the current ETag (weak form and lists too), 200 with the new bundle after a change', async () => {
    const first = await proxy.bundle();
    const etag = String(first.headers.etag);
    for (const header of [etag, `W/${etag}`, `"0.x", ${etag}`, '*']) {
      const res = await proxy.bundle({ 'if-none-match': header });
      expect({ header, status: res.statusCode, body: res.body }).toEqual({ header, status: 304, body: '' });
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    expect((await proxy.bundle({ 'if-none-match': '"999.nope"' })).statusCode).toBe(200);
    await admin.create({ name: 'etag-bump', document: shellDeny });
    const after = await proxy.bundle({ 'if-none-match': etag });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().payload.version).toBe(first.json().payload.version + 1);
  });

  describe('the verifier refuses what it must', () => {
    let bundle: SignedBundle;
    let text: string;
    let keys: Awaited<ReturnType<typeof servedKeys>>['fromPem'];
    beforeAll(async () => {
      const res = await proxy.bundle();
      text = res.body;
      bundle = res.json();
      keys = (await servedKeys(t, proxyKey)).fromPem;
    });
    const verify = (b: unknown, options: Partial<Parameters<typeof verifyBundle>[1]> = {}) =>
      verifyBundle(b, { keys, now: Date.now(), ...options });

    it('accepts the served text as is', () => {
      expect(codeOf(() => verify(text, { tenantId: tenant }))).toBe('none');
    });

    it('refuses the served bundle with any one byte changed (signature padding bits included)', () => {
      const bytes = Buffer.from(text, 'utf8');
      const accepted: number[] = [];
      for (let i = 0; i < bytes.length; i++) {
        for (const flip of [0x01, 0x02, 0x04, 0x20]) {
          const changed = Buffer.from(bytes);
          changed[i] ^= flip;
          if (codeOf(() => verify(changed.toString('utf8'), { tenantId: tenant })) === 'none')
            accepted.push(i);
        }
      }
      expect(accepted).toEqual([]);
    });

    it('refuses a changed rule (BAD_SIGNATURE), a wrong key (UNKNOWN_KEY), an expired bundle (EXPIRED)', () => {
      const weakened = { ...bundle, payload: { ...bundle.payload, policy: { version: 1, rules: [] } } };
      expect(codeOf(() => verify(weakened))).toBe('BAD_SIGNATURE');
      const stranger = generateKeyPairSync('ed25519').publicKey;
      expect(codeOf(() => verify(bundle, { keys: [stranger] }))).toBe('UNKNOWN_KEY');
      const expiry = Date.parse(bundle.payload.expires_at);
      expect(codeOf(() => verify(bundle, { now: expiry + 61_000 }))).toBe('EXPIRED');
      expect(codeOf(() => verify(bundle, { tenantId: 'someone-else' }))).toBe('TENANT_MISMATCH');
    });

    it('refuses a replayed older version (ROLLBACK) once a newer one was accepted', async () => {
      await admin.create({ name: 'newer', document: shellDeny });
      const newer = (await fetchBundle(t, proxyKey)).bundle;
      const accepted = verify(newer).version;
      expect(accepted).toBe(bundle.payload.version + 1);
      expect(codeOf(() => verify(bundle, { minVersion: accepted }))).toBe('ROLLBACK');
    });
  });

  it('N pollers cost one signature per (tenant, version, key); a change costs one more', async () => {
    const service = t.app.get(PolicyBundleService);
    await proxy.bundle(); // whatever is current is now cached
    const before = service.signatures;
    const bodies = await Promise.all(Array.from({ length: 25 }, () => proxy.bundle()));
    for (let i = 0; i < 25; i++) await proxy.bundle();
    expect(service.signatures).toBe(before);
    expect(new Set(bodies.map((b) => b.body)).size).toBe(1);

    await admin.create({ name: 'cache-bump', document: shellDeny });
    const after = await Promise.all(Array.from({ length: 25 }, () => proxy.bundle()));
    expect(service.signatures).toBe(before + 1);
    expect(new Set(after.map((b) => b.json().payload.version)).size).toBe(1);
    // 304s never sign.
    const etag = String(after[0].headers.etag);
    for (let i = 0; i < 10; i++) await proxy.bundle({ 'if-none-match': etag });
    expect(service.signatures).toBe(before + 1);
  });
});

describe('dry run: POST /v1/gateway/evaluate', () => {
  let t: TestApp;
  let analyst: ReturnType<typeof api>;
  let admin: ReturnType<typeof api>;
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await createTenant(t.app);
    admin = api(t, (await createKey(t.app, tenant, 'admin')).raw);
    analyst = api(t, (await createKey(t.app, tenant, 'viewer')).raw);
  });
  afterAll(() => t.close());

  it('with no policy: allow by default, bundle version 0', async () => {
    const res = await analyst.evaluate({ tool: 'read_file', arguments: { path: '/tmp/x' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ effect: 'allow', rule_id: null, bundle_version: 0, policy_id: null });
  });

  it("returns libs/policy's whole decision against the effective policy, with the bundle version", async () => {
    await admin.create({
      name: 'base',
      document: policyDocument([
        { id: 'secrets', effect: 'deny', priority: 1000, secret_paths: true },
        {
          id: 'ci-shell',
          effect: 'allow',
          priority: 200,
          tools: ['run_shell'],
          bindings: { agents: ['ci'] },
        },
        { id: 'shell', effect: 'deny', priority: 100, tools: ['run_shell'] },
      ]),
    });
    const denied = (
      await analyst.evaluate({ tool: 'read_file', arguments: { path: '~/.ssh/id_rsa' } })
    ).json();
    expect(denied).toMatchObject({
      effect: 'deny',
      enforced: true,
      rule_id: 'base/secrets',
      matched: [{ rule_id: 'base/secrets', effect: 'deny', mode: 'enforce' }],
      bundle_version: 1,
      policy_id: null,
      policy_version: null,
    });
    expect(denied.reason).toContain('.ssh/');
    expect(denied.path.length).toBeGreaterThan(1);
    // Bindings are enforced: the allow applies to the ci agent only; look-alike names do not ride it.
    expect((await analyst.evaluate({ tool: 'run_shell', context: { agent: 'ci' } })).json().effect).toBe(
      'allow',
    );
    expect((await analyst.evaluate({ tool: 'run_shell', context: { agent: 'laptop' } })).json().effect).toBe(
      'deny',
    );
    expect((await analyst.evaluate({ tool: 'run_sh\u0435ll', context: { agent: 'ci' } })).json().effect).toBe(
      'deny',
    );
    // Other methods: the arguments are the request params.
    const resource = await analyst.evaluate({
      method: 'resources/read',
      arguments: { uri: 'file:///home/me/.aws/credentials' },
    });
    expect(resource.json()).toMatchObject({ effect: 'deny', rule_id: 'base/secrets' });
  });

  it('evaluates one policy by id, even disabled, as it would contribute to the bundle', async () => {
    const off = (
      await admin.create({
        name: 'draft',
        enabled: false,
        bindings: { environments: ['prod'] },
        document: policyDocument([{ id: 'no-writes', effect: 'deny', tool_classes: ['write'] }]),
      })
    ).json();
    const effective = await analyst.evaluate({ tool: 'write_file', context: { environment: 'prod' } });
    expect(effective.json().effect).toBe('allow');
    const one = await analyst.evaluate({
      tool: 'write_file',
      context: { environment: 'prod' },
      policy_id: off.id,
    });
    expect(one.json()).toMatchObject({
      effect: 'deny',
      rule_id: 'draft/no-writes',
      policy_id: off.id,
      policy_version: 1,
      bundle_version: off.bundle_version,
    });
    const elsewhere = await analyst.evaluate({
      tool: 'write_file',
      context: { environment: 'dev' },
      policy_id: off.id,
    });
    expect(elsewhere.json().effect).toBe('allow');
    await admin.remove(off.id);
    expect((await analyst.evaluate({ tool: 'write_file', policy_id: off.id })).statusCode).toBe(404);
  });

  it('refuses a tools/call without a tool, naming the field', async () => {
    const res = await analyst.evaluate({ arguments: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ field: 'tool', problems: ['is required for tools/call'] }]);
  });
});

describe('key rotation: restart with a new key and the old one as previous', () => {
  let db: TestDatabase;
  let dir: string;
  const files = { old: '', next: '' };
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-rotation-'));
    for (const name of ['old', 'next'] as const) {
      files[name] = path.join(dir, `${name}.pem`);
      const { privateKey } = generateKeyPairSync('ed25519');
      await fs.writeFile(files[name], privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('old bundles keep verifying with the served keys while new bundles use the new key id', async () => {
    // Before: the old key signs.
    let t = await startTestApp({ db, env: { AGENT_BOM_SIGNING_KEY_FILE: files.old } });
    const tenant = await createTenant(t.app);
    const adminKey = (await createKey(t.app, tenant, 'admin')).raw;
    const gatewayKey = (await createKey(t.app, tenant, 'gateway')).raw;
    await api(t, adminKey).create({ name: 'p', document: shellDeny });
    const old = await fetchBundle(t, gatewayKey);
    const oldKeyId = old.bundle.key_id;
    await t.close();

    // After: a new key, the old one listed as previous (its private key file works as well as a public one).
    t = await startTestApp({
      db,
      env: { AGENT_BOM_SIGNING_KEY_FILE: files.next, AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE: files.old },
    });
    try {
      const { body, fromJwk } = await servedKeys(t, gatewayKey);
      expect(body.current_key_id).not.toBe(oldKeyId);
      expect(body.keys.map((k) => k.key_id)).toEqual([body.current_key_id, oldKeyId]);
      const gateway = api(t, gatewayKey);
      // Same version, new key: the old ETag no longer matches, so pollers get the re-signed bundle.
      const res = await gateway.bundle({ 'if-none-match': old.etag });
      expect(res.statusCode).toBe(200);
      const fresh = res.json() as SignedBundle;
      expect(res.headers.etag).toBe(`"${old.bundle.payload.version}.${body.current_key_id}"`);
      expect(fresh.key_id).toBe(body.current_key_id);
      expect(fresh.payload.version).toBe(old.bundle.payload.version);
      expect(verifyBundle(fresh, { keys: fromJwk, now: Date.now() }).version).toBe(
        old.bundle.payload.version,
      );
      expect(verifyBundle(old.bundle, { keys: fromJwk, now: Date.now() }).tenant_id).toBe(tenant);
    } finally {
      await t.close();
    }

    // Once the old key is dropped from the previous keys, its bundles stop verifying.
    t = await startTestApp({ db, env: { AGENT_BOM_SIGNING_KEY_FILE: files.next } });
    try {
      const { fromPem } = await servedKeys(t, gatewayKey);
      expect(codeOf(() => verifyBundle(old.bundle, { keys: fromPem, now: Date.now() }))).toBe('UNKNOWN_KEY');
    } finally {
      await t.close();
    }
  });

  it('AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS sets expires_at', async () => {
    const t = await startTestApp({
      db,
      env: { AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS: '600', AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '0' },
    });
    try {
      const tenant = await createTenant(t.app);
      const key = (await createKey(t.app, tenant, 'proxy')).raw;
      const { payload } = (await fetchBundle(t, key)).bundle;
      expect(Date.parse(payload.expires_at) - Date.parse(payload.issued_at)).toBe(600_000);
      await fetchBundle(t, key);
      expect(t.app.get(PolicyBundleService).signatures).toBe(2); // cache off: every 200 signs
    } finally {
      await t.close();
    }
  });
});

describe('bundle content coding', () => {
  it('sends the same bytes gzipped to a poller that accepts gzip, and plain to one that does not', async () => {
    const t = await startTestApp();
    try {
      const tenant = await createTenant(t.app);
      const adminKey = (await createKey(t.app, tenant, 'admin')).raw;
      const proxy = api(t, (await createKey(t.app, tenant, 'proxy')).raw);
      await api(t, adminKey).create({ name: 'p', document: shellDeny });
      const plain = await proxy.bundle({ 'accept-encoding': 'br, gzip;q=0' });
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('accept-encoding');
      const zipped = await proxy.bundle({ 'accept-encoding': 'gzip, deflate' });
      expect(zipped.statusCode).toBe(200);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.etag).toBe(plain.headers.etag);
      expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length);
      expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true);
      const notModified = await proxy.bundle({
        'accept-encoding': 'gzip',
        'if-none-match': String(plain.headers.etag),
      });
      expect(notModified.statusCode).toBe(304);
      expect(notModified.rawPayload.length).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('bundle versions across replicas: remembered between polls, forgotten at every commit', () => {
  it('a change committed on replica A is served by replica B, which had the old version remembered', async () => {
    const a = await startTestApp();
    const b = await startTestApp({ db: a.db });
    try {
      const tenant = await createTenant(a.app);
      const adminKey = (await createKey(a.app, tenant, 'admin')).raw;
      const proxyKey = (await createKey(a.app, tenant, 'proxy')).raw;
      await api(a, adminKey).create({ name: 'p', document: shellDeny });
      const before = await fetchBundle(b, proxyKey);
      expect((await fetchBundle(b, proxyKey)).etag).toBe(before.etag); // B now remembers the version
      const versions = b.app.get(BundleVersions);
      let reads = 0;
      await versions.version(tenant, async () => ++reads); // remembered: no read
      expect(reads).toBe(0);

      await api(a, adminKey).create({
        name: 'q',
        document: policyDocument([{ id: 'x', effect: 'deny', tools: ['x'] }]),
      });
      // The commit's notification reaches B within milliseconds; poll for it rather than sleep a fixed time.
      const deadline = Date.now() + 2000;
      let after = await fetchBundle(b, proxyKey);
      while (after.bundle.payload.version === before.bundle.payload.version && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        after = await fetchBundle(b, proxyKey);
      }
      expect(after.bundle.payload.version).toBe(before.bundle.payload.version + 1);
      expect(after.etag).not.toBe(before.etag);
      // On the replica that wrote, the very next poll already has it.
      expect((await fetchBundle(a, proxyKey)).bundle.payload.version).toBe(after.bundle.payload.version);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a steady-state poll is answered without a promise, from memory; a commit on another replica still reaches it', async () => {
    const a = await startTestApp();
    const b = await startTestApp({ db: a.db });
    try {
      const tenant = await createTenant(a.app);
      const other = await createTenant(a.app);
      const adminKey = (await createKey(a.app, tenant, 'admin')).raw;
      const proxyKey = (await createKey(a.app, tenant, 'proxy')).raw;
      const otherKey = (await createKey(a.app, other, 'proxy')).raw;
      await api(a, adminKey).create({ name: 'p', document: shellDeny });
      const before = await fetchBundle(b, proxyKey); // B remembers the version and holds the signed bundle
      const otherBefore = await fetchBundle(b, otherKey);
      const service = b.app.get(PolicyBundleService);
      const as = (tenantId: string): Principal => ({
        tenantId,
        role: 'proxy',
        subject: 'key:test',
        authMethod: 'api_key',
        keyId: null,
      });
      const served = service.bundle(as(tenant));
      expect(served).not.toBeInstanceOf(Promise);
      const bundle = served as ServedBundle;
      expect(bundle.etag).toBe(before.etag);
      expect(JSON.parse(bundle.body.toString('utf8'))).toEqual(before.bundle);
      expect(service.bundle(as(tenant), before.etag)).toEqual({ etag: before.etag, body: null });
      // Each tenant's own bundle, from memory too: never the other's.
      const theirs = service.bundle(as(other)) as ServedBundle;
      expect(theirs.etag).toBe(otherBefore.etag);
      expect(JSON.parse(theirs.body.toString('utf8')).payload.tenant_id).toBe(other);
      expect(service.bundle(as(other), before.etag)).not.toEqual({ etag: before.etag, body: null });

      await api(a, adminKey).create({
        name: 'q',
        document: policyDocument([{ id: 'x', effect: 'deny', tools: ['x'] }]),
      });
      // B forgets the version when the commit's notification arrives: the next answer reads it again.
      const deadline = Date.now() + 2000;
      while (!(service.bundle(as(tenant)) instanceof Promise) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const after = await service.bundle(as(tenant), before.etag);
      expect(after.body).not.toBeNull();
      expect(after.etag).not.toBe(before.etag);
      expect(JSON.parse(after.body!.toString('utf8')).payload.version).toBe(
        before.bundle.payload.version + 1,
      );
      // The other tenant's bundle is still served from memory, unchanged.
      expect((service.bundle(as(other)) as ServedBundle).etag).toBe(otherBefore.etag);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a read that a commit overtook is not remembered', async () => {
    const t = await startTestApp();
    try {
      const versions = t.app.get(BundleVersions);
      const tenant = 'overtaken';
      let release!: () => void;
      const pending = versions.version(
        tenant,
        () => new Promise<number>((resolve) => (release = () => resolve(1))),
      );
      versions.forget(tenant); // a commit's notification arrives while the read is in flight
      release();
      expect(await pending).toBe(1);
      let reads = 0;
      expect(await versions.version(tenant, async () => (++reads, 2))).toBe(2);
      expect(reads).toBe(1);
    } finally {
      await t.close();
    }
  });
});
