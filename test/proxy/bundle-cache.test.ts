import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ProxyLogger } from '../../apps/proxy/src/logger.js';
import { ControlPlaneClient } from '../../libs/control-plane-client/src/index.js';
import { signBundle, type PolicyDocument } from '../../libs/policy/src/index.js';
import { BundlePolicySource, DiskBundleStore, FailClosedError } from '../../libs/runtime/src/index.js';
import { startBundleServer, type BundleServer } from '../helpers/bundle-server.js';

/**
 * The bundle cache and its fail-closed rules, against a loopback server speaking the control plane's bundle
 * contract with bundles signed by libs/policy: verify at start, refuse tampering, rollback and expiry, fetch when
 * the cache is bad, fail closed when the control plane cannot help, refresh with ETags, follow key rotation.
 */
const TOKEN = 'abom_' + 'b'.repeat(43);
const DENY_SHELL: PolicyDocument = {
  version: 1,
  rules: [{ id: 'no-shell', effect: 'deny', tools: ['shell'] }],
};

let dir: string;
let server: BundleServer;
const quiet = new ProxyLogger('error', undefined, { write: () => true } as unknown as NodeJS.WritableStream);

const sync = (pinned?: KeyObject[], now?: () => number) =>
  new BundlePolicySource({
    store: new DiskBundleStore(dir),
    client: new ControlPlaneClient({ baseUrl: server.url, apiKey: TOKEN, baseDelayMs: 5, maxDelayMs: 10 }),
    pinned,
    logger: quiet,
    now,
  });

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-bundle-'));
  server = await startBundleServer({ token: TOKEN, policy: DENY_SHELL });
});
afterEach(async () => {
  await server.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('start-up', () => {
  it('without a cache: fetches, verifies, caches bundle, keys and the rollback floor (0600)', async () => {
    const bundle = (await sync().startup())!;
    expect(bundle).toMatchObject({ origin: 'control_plane', payload: { tenant_id: 'acme', version: 1 } });
    expect(bundle?.policy.rules).toBe(1);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/policy/bundle', '/v1/policy/verification-key']);
    const cached = await fs.readFile(path.join(dir, 'bundle.json'), 'utf8');
    expect(JSON.parse(cached)).toEqual(server.bundle);
    const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ etag: `"1.${server.bundle.key_id}"`, tenant_id: 'acme', min_version: 1 });
    for (const name of ['bundle.json', 'keys.json', 'state.json']) {
      expect((await fs.stat(path.join(dir, name))).mode & 0o777).toBe(0o600);
    }
    expect(JSON.stringify(state) + cached).not.toContain(TOKEN);
  });

  it('with a good cache: starts without the control plane', async () => {
    await sync().startup();
    await server.stop();
    const bundle = (await sync().startup())!;
    expect(bundle.origin).toBe('cache');
    expect(bundle.payload.version).toBe(1);
  });

  it('with a good cache and a newer bundle published: revalidates at start (If-None-Match) and uses the new one', async () => {
    await sync().startup();
    server.publish({ version: 1, rules: [{ id: 'no-write', effect: 'deny', tools: ['write_file'] }] });
    server.requests.length = 0;
    const bundle = (await sync().startup())!;
    expect(bundle.payload.version).toBe(2);
    expect(bundle.origin).toBe('control_plane');
    expect(server.requests[0]).toMatchObject({
      path: '/v1/policy/bundle',
      ifNoneMatch: expect.stringMatching(/^"1\./),
    });
    // unchanged: a 304 keeps the cache
    server.requests.length = 0;
    expect((await sync().startup())!.payload.version).toBe(2);
    expect(server.requests[0]).toMatchObject({ status: 304 });
  });

  it('a tampered cache with the control plane down: fail closed, naming the cache and the signature', async () => {
    await sync().startup();
    await server.stop();
    const file = path.join(dir, 'bundle.json');
    const tampered = JSON.parse(await fs.readFile(file, 'utf8'));
    tampered.payload.policy.rules = []; // "allow everything"
    await fs.writeFile(file, JSON.stringify(tampered));
    const error = await sync()
      .startup()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailClosedError);
    expect((error as Error).message).toMatch(/refusing to start \(fail closed\)/);
    expect((error as Error).message).toMatch(
      /bundle\.json was refused \(tampered or corrupted\): BAD_SIGNATURE/,
    );
    expect((error as Error).message).toMatch(/the control plane is unreachable/);
  });

  it('a tampered cache with the control plane up: refused, replaced by a fresh bundle', async () => {
    await sync().startup();
    await fs.writeFile(path.join(dir, 'bundle.json'), '{"not":"a bundle"}');
    const bundle = (await sync().startup())!;
    expect(bundle.origin).toBe('control_plane');
    expect(JSON.parse(await fs.readFile(path.join(dir, 'bundle.json'), 'utf8'))).toEqual(server.bundle);
  });

  it('a cache re-signed with a key the control plane never published: UNKNOWN_KEY, fail closed', async () => {
    await sync().startup();
    await server.stop();
    const forged = signBundle(
      { ...server.bundle.payload, policy: { version: 1, rules: [] } },
      generateKeyPairSync('ed25519').privateKey,
    );
    await fs.writeFile(path.join(dir, 'bundle.json'), JSON.stringify(forged));
    await expect(sync().startup()).rejects.toThrow(/UNKNOWN_KEY/);
  });

  it('an expired cache with the control plane down: fail closed', async () => {
    server.publish(DENY_SHELL, { ttlSeconds: 60, issuedAt: new Date(Date.now() - 3_600_000 - 1000) });
    await fs.writeFile(path.join(dir, 'bundle.json'), JSON.stringify(server.bundle));
    await sync()
      .startup()
      .catch(() => undefined); // fetch the keys once (refused: expired)
    await server.stop();
    await expect(sync().startup()).rejects.toThrow(/EXPIRED.*unreachable/s);
  });

  it('no cache and the control plane down: fail closed quickly', async () => {
    await server.stop();
    const started = Date.now();
    await expect(sync().startup()).rejects.toThrow(/no cached policy bundle.*unreachable/s);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a wrong token: fail closed with the control plane's refusal", async () => {
    const wrong = new BundlePolicySource({
      store: new DiskBundleStore(dir),
      client: new ControlPlaneClient({ baseUrl: server.url, apiKey: 'abom_wrong' }),
      logger: quiet,
    });
    await expect(wrong.startup()).rejects.toThrow(/refused the bundle request.*key was refused/s);
  });

  it('rollback: a lower version than ever accepted is refused, even after the cache is deleted', async () => {
    server.publish(DENY_SHELL, { version: 5 });
    await sync().startup();
    await fs.rm(path.join(dir, 'bundle.json'));
    server.publish({ version: 1, rules: [] }, { version: 3 });
    await expect(sync().startup()).rejects.toThrow(/ROLLBACK/);
  });

  it('a pinned key refuses bundles signed by any other key, whatever the control plane publishes', async () => {
    const pinned = [generateKeyPairSync('ed25519').publicKey];
    await expect(sync(pinned).startup()).rejects.toThrow(/UNKNOWN_KEY/);
  });
});

describe('refresh', () => {
  it('sends If-None-Match, keeps the bundle on 304, swaps it on a new version', async () => {
    const s = sync();
    await s.startup();
    expect(await s.refresh()).toBeUndefined();
    expect(server.requests.at(-1)).toMatchObject({ status: 304, ifNoneMatch: `"1.${server.bundle.key_id}"` });
    server.publish({ version: 1, rules: [] });
    const fresh = await s.refresh();
    expect(fresh?.payload.version).toBe(2);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')).min_version).toBe(2);
  });

  it('follows a key rotation by fetching the published keys again', async () => {
    const s = sync();
    await s.startup();
    server.rotateKey(true);
    server.publish(DENY_SHELL);
    const fresh = await s.refresh();
    expect(fresh?.payload.version).toBe(2);
    expect(server.requests.filter((r) => r.path === '/v1/policy/verification-key')).toHaveLength(2);
  });

  it('keeps the last good bundle when the control plane is down or serves a rollback', async () => {
    const s = sync();
    server.publish(DENY_SHELL, { version: 7 });
    await s.startup();
    server.publish({ version: 1, rules: [] }, { version: 6 });
    expect(await s.refresh()).toBeUndefined();
    expect(s.bundle?.payload.version).toBe(7);
    await server.stop();
    expect(await s.refresh()).toBeUndefined();
    expect(s.bundle?.payload.version).toBe(7);
  });

  it('asks unconditionally in the second half of the validity (a re-issued bundle keeps its ETag)', async () => {
    let now = Date.now();
    const s = sync(undefined, () => now);
    await s.startup();
    now += 40 * 60 * 1000;
    await s.refresh();
    expect(server.requests.at(-1)).toMatchObject({ status: 200, ifNoneMatch: undefined });
  });
});
