import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/main.js';
import { keyIdOf, signBundle, type BundlePayload, type PolicyDocument } from '../../libs/policy/src/index.js';
import { startFakeControlPlane, type FakeControlPlane } from '../helpers/fake-control-plane.js';
import { callGatewayTool } from '../helpers/gateway.js';
import { startHttpMcpServer, type HttpMcpServer } from '../helpers/mcp-http.js';
import { waitFor } from '../helpers/processes.js';

/**
 * The gateway's bundle client against a loopback control plane speaking the `GET /v1/policy/bundle` and
 * `GET /v1/policy/verification-key` contract, with bundles signed here by libs/policy `signBundle`.
 */
const GATEWAY_KEY = `abom_${'g'.repeat(43)}`;
const BEARER = 'bundle-suite-bearer-token-0123456';
const signer = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

function bundle(version: number, policy: PolicyDocument, key = signer.privateKey, tenant = 'acme') {
  const now = Date.now();
  const payload: BundlePayload = {
    tenant_id: tenant,
    version,
    policy,
    issued_at: new Date(now - 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    expires_at: new Date(now + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  return signBundle(payload, key);
}
const deny = (tool: string): PolicyDocument => ({
  version: 1,
  rules: [{ id: `no-${tool}`, effect: 'deny', tools: [tool] }],
});

describe('gateway policy from the control plane bundle', () => {
  let cp: FakeControlPlane;
  let mcp: HttpMcpServer;
  let gateway: RunningGateway | undefined;

  beforeEach(async () => {
    cp = await startFakeControlPlane();
    mcp = await startHttpMcpServer({ tools: ['search', 'fetch'] });
    cp.gatewayKeys.set(GATEWAY_KEY, 'acme');
    cp.upstreams.set('acme', [{ name: 'tools', url: `${mcp.url}/mcp`, transport: 'http' }]);
    cp.verificationKeys.push({
      key_id: keyIdOf(signer.publicKey),
      alg: 'Ed25519',
      public_key_pem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await mcp.close();
    await cp.close();
  });

  const start = (stateDir?: string) =>
    startGateway(
      {
        bind: '127.0.0.1:0',
        fromControlPlane: cp.url,
        controlPlaneToken: [GATEWAY_KEY],
        bearerToken: BEARER,
        egressAllow: ['127.0.0.1/32'], // the test upstream is on loopback
        stateDir,
      },
      { LOG_LEVEL: 'silent', AGENT_BOM_GATEWAY_POLICY_REFRESH_SECONDS: '1' },
      () => undefined,
    );
  const health = async () =>
    (await (await fetch(`${gateway!.url}/healthz`)).json()) as {
      policy: {
        source: string | null;
        version: string | null;
        bundle: Array<{ version: string | null; available: boolean; last_error: string | null }>;
      };
    };
  const callTool = (name: string) => callGatewayTool(gateway!.url, 'tools', BEARER, name);

  it('enforces a verified bundle, then picks up a newer one (ETag, 304 in between)', async () => {
    cp.bundles.set('acme', bundle(1, deny('search')));
    gateway = await start();
    expect((await callTool('search')).error).toMatchObject({
      code: -32001,
      message: expect.stringContaining('control-plane bundle'),
    });
    expect((await callTool('fetch')).error).toBeUndefined();
    await waitFor(
      () =>
        cp.requests.some(
          (r) => r.path === '/v1/policy/bundle' && r.ifNoneMatch === `"1.${keyIdOf(signer.publicKey)}"`,
        ),
      5_000,
    );
    cp.bundles.set('acme', bundle(2, deny('fetch')));
    await waitFor(async () => (await callTool('fetch')).error?.code === -32001, 10_000);
    expect((await callTool('search')).error).toBeUndefined();
    const health = (await (await fetch(`${gateway.url}/healthz`)).json()) as {
      policy: { source: string; version: string };
    };
    expect(health.policy).toMatchObject({ source: 'control-plane bundle', version: '2' });
  }, 30_000);

  it('refuses to start on a served bundle that does not verify (fail closed)', async () => {
    cp.bundles.set('acme', bundle(1, deny('search'), stranger.privateKey));
    cp.verificationKeys.push({
      key_id: keyIdOf(stranger.publicKey),
      alg: 'Ed25519',
      public_key_pem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString(), // wrong key under that id
    });
    // Key ids are recomputed from the published keys, never taken from the document: the lying entry names no key.
    await expect(start()).rejects.toThrow(
      /refusing to start \(fail closed\).*policy bundle the control plane served was refused \(UNKNOWN_KEY/,
    );
  });

  it('keeps the last good bundle when a later one is for another tenant, rolled back or forged', async () => {
    cp.bundles.set('acme', bundle(5, deny('search')));
    gateway = await start();
    for (const bad of [
      bundle(6, deny('fetch'), signer.privateKey, 'other'),
      bundle(4, deny('fetch')),
      bundle(7, deny('fetch'), stranger.privateKey),
    ]) {
      cp.bundles.set('acme', bad);
      const before = cp.requests.length;
      await waitFor(() => cp.requests.slice(before).some((r) => r.path === '/v1/policy/bundle'), 5_000);
      await waitFor(() => gateway!.runtime.tenants.get('acme')!.bundle!.lastError !== null, 5_000);
      expect((await callTool('search')).error?.code).toBe(-32001);
      expect((await callTool('fetch')).error).toBeUndefined();
    }
  }, 40_000);

  it('a control plane without a bundle for the tenant: no bundle policy, traffic flows', async () => {
    gateway = await start();
    expect((await callTool('search')).error).toBeUndefined();
    const health = (await (await fetch(`${gateway.url}/healthz`)).json()) as {
      policy: { source: null; bundle: Array<{ available: boolean }> };
    };
    expect(health.policy.source).toBeNull();
    expect(health.policy.bundle[0].available).toBe(false);
  });

  describe('with --state-dir: the cache and rollback floor survive a restart', () => {
    let stateDir: string;
    beforeEach(async () => {
      stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'abom-gw-state-'));
    });
    afterEach(async () => {
      await fs.rm(stateDir, { recursive: true, force: true });
    });
    const stop = async () => {
      await gateway!.close();
      gateway = undefined;
    };

    it('persists the bundle, keys and rollback floor per tenant (0600, no key value in them)', async () => {
      cp.bundles.set('acme', bundle(5, deny('search')));
      gateway = await start(stateDir);
      const dir = path.join(stateDir, 'policy', 'acme');
      const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8'));
      expect(state).toMatchObject({ tenant_id: 'acme', min_version: 5 });
      for (const name of ['bundle.json', 'keys.json', 'state.json']) {
        const file = path.join(dir, name);
        expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
        expect(await fs.readFile(file, 'utf8')).not.toContain(GATEWAY_KEY);
      }
    });

    it('refuses an older bundle served after a restart and keeps enforcing the newer cached one', async () => {
      cp.bundles.set('acme', bundle(5, deny('search')));
      gateway = await start(stateDir);
      await stop();
      cp.bundles.set('acme', bundle(4, deny('fetch'))); // validly signed, but a rollback
      gateway = await start(stateDir);
      expect((await callTool('search')).error?.code).toBe(-32001);
      expect((await callTool('fetch')).error).toBeUndefined();
      const policy = (await health()).policy;
      expect(policy.bundle[0]).toMatchObject({ version: '5', last_error: expect.stringMatching(/ROLLBACK/) });
      expect(policy.bundle[0].last_error).not.toMatch(/ROLLBACK: ROLLBACK/); // the code is said once
    }, 30_000);

    it('revalidates at start: a bundle published while it was down is used at once (If-None-Match sent)', async () => {
      cp.bundles.set('acme', bundle(1, deny('search')));
      gateway = await start(stateDir);
      await stop();
      cp.bundles.set('acme', bundle(2, deny('fetch')));
      cp.requests.length = 0;
      gateway = await start(stateDir);
      expect(cp.requests.find((r) => r.path === '/v1/policy/bundle')?.ifNoneMatch).toBe(
        `"1.${keyIdOf(signer.publicKey)}"`,
      );
      expect((await callTool('fetch')).error?.code).toBe(-32001);
      expect((await callTool('search')).error).toBeUndefined();
    }, 30_000);

    it('falls back to the cached bundle only when the control plane cannot answer for it', async () => {
      cp.bundles.set('acme', bundle(3, deny('search')));
      gateway = await start(stateDir);
      await stop();
      cp.bundleDown = true;
      gateway = await start(stateDir);
      expect((await callTool('search')).error?.code).toBe(-32001);
      const policy = (await health()).policy;
      expect(policy.bundle[0]).toMatchObject({
        version: '3',
        last_error: expect.stringMatching(
          /(cannot revalidate|policy refresh failed).*control plane failed \(503/,
        ),
      });
    }, 30_000);
  });

  it('without a cache, a control plane that cannot serve the bundle stops the start (fail closed)', async () => {
    cp.bundles.set('acme', bundle(1, deny('search')));
    cp.bundleDown = true;
    await expect(start()).rejects.toThrow(/refusing to start \(fail closed\).*control plane is unreachable/s);
  }, 30_000);
});
