import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keyIdOf as policyKeyIdOf, verifyBundle } from '../../../libs/policy/src/index.js';
import { ConfigError } from '../config/config.js';
import { KeyRing, keyIdOf, parsePublicKeys } from './key-ring.js';
import { GENERATED_KEY_FILE, loadSigningKeys, SigningKeys } from './signing-keys.js';

const pkcs8 = (key = generateKeyPairSync('ed25519').privateKey) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('signing keys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-bom-signing-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('key id = base64url of the first 16 bytes of SHA-256 over the raw 32-byte public key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    const expected = createHash('sha256').update(raw).digest().subarray(0, 16).toString('base64url');
    expect(keyIdOf(publicKey)).toBe(expected);
    expect(keyIdOf(privateKey)).toBe(expected);
    expect(new SigningKeys(privateKey).currentKeyId).toBe(expected);
  });

  it('derives key ids with libs/policy, so bundle key ids match what proxies and gateways compute', () => {
    expect(keyIdOf).toBe(policyKeyIdOf);
  });

  it('signs policy bundles that libs/policy verifies with the published current key', () => {
    const privateKey = generateKeyPairSync('ed25519').privateKey;
    const keys = new SigningKeys(privateKey, [generateKeyPairSync('ed25519').publicKey]);
    const payload = {
      tenant_id: 'acme',
      version: 3,
      policy: { version: 1 as const, rules: [] },
      issued_at: '2026-01-01T00:00:00Z',
      expires_at: '2026-01-02T00:00:00Z',
    };
    const bundle = keys.signBundle(payload);
    expect(bundle.key_id).toBe(keys.currentKeyId);
    const trusted = keys.trustedKeys();
    expect(trusted.map((k) => k.current)).toEqual([true, false]);
    expect(trusted.map((k) => k.id)).toEqual(trusted.map((k) => policyKeyIdOf(k.key)));
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(verifyBundle(bundle, { keys: trusted.map((k) => k.key), now })).toEqual(payload);
    expect(JSON.stringify(trusted.map((k) => k.key.type))).toBe('["public","public"]');
  });

  it('signs, verifies, and refuses a changed payload, a changed signature or an unknown key id', () => {
    const keys = new SigningKeys(generateKeyPairSync('ed25519').privateKey);
    const { key_id, signature } = keys.sign('payload');
    expect(keys.verify(key_id, 'payload', signature)).toBe('ok');
    expect(keys.verify(key_id, 'payloaD', signature)).toBe('bad_signature');
    // Flip one character in the middle (every bit there is signature data; the last character has spare bits).
    const flipped = signature.slice(0, 40) + (signature[40] === 'A' ? 'B' : 'A') + signature.slice(41);
    expect(keys.verify(key_id, 'payload', flipped)).toBe('bad_signature');
    // A non-canonical spelling of the same bytes is refused too.
    const last = signature[signature.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = signature.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(keys.verify(key_id, 'payload', sameBytes)).toBe('bad_signature');
    expect(keys.verify(key_id, 'payload', 'short')).toBe('bad_signature');
    expect(keys.verify('someone-else', 'payload', signature)).toBe('unknown_key');
  });

  it('generates a key once under the data dir, mode 0600, and finds the same one next time', async () => {
    const dataDir = path.join(dir, 'fresh');
    const first = await loadSigningKeys({ keyFile: undefined, previousKeys: undefined, dataDir });
    expect(first.origin).toBe('generated');
    expect(first.path).toBe(path.join(dataDir, GENERATED_KEY_FILE));
    expect((await fs.stat(first.path)).mode & 0o077).toBe(0);
    const second = await loadSigningKeys({ keyFile: undefined, previousKeys: undefined, dataDir });
    expect(second.origin).toBe('persisted');
    expect(second.keys.currentKeyId).toBe(first.keys.currentKeyId);
  });

  it('processes racing on one fresh data dir all end up with one key', async () => {
    const dataDir = path.join(dir, 'race');
    const loaded = await Promise.all(
      Array.from({ length: 8 }, () =>
        loadSigningKeys({ keyFile: undefined, previousKeys: undefined, dataDir }),
      ),
    );
    expect(new Set(loaded.map((l) => l.keys.currentKeyId)).size).toBe(1);
    expect((await fs.readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads AGENT_BOM_SIGNING_KEY_FILE and refuses files that are not Ed25519 PKCS8 keys', async () => {
    const good = path.join(dir, 'good.pem');
    const privateKey = generateKeyPairSync('ed25519').privateKey;
    await fs.writeFile(good, pkcs8(privateKey));
    const loaded = await loadSigningKeys({ keyFile: good, previousKeys: undefined, dataDir: dir });
    expect(loaded).toMatchObject({ origin: 'file', path: good });
    expect(loaded.keys.currentKeyId).toBe(keyIdOf(privateKey));

    const rsa = path.join(dir, 'rsa.pem');
    await fs.writeFile(rsa, pkcs8(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey));
    const junk = path.join(dir, 'junk.pem');
    await fs.writeFile(junk, 'not a key');
    for (const [file, mention] of [
      [rsa, 'Ed25519'],
      [junk, 'PKCS8'],
      [path.join(dir, 'missing.pem'), 'cannot be read'],
    ]) {
      const error = await loadSigningKeys({ keyFile: file, previousKeys: undefined, dataDir: dir }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('AGENT_BOM_SIGNING_KEY_FILE');
      expect((error as Error).message).toContain(mention);
    }
  });

  it('keeps verifying signatures of retired keys listed in a file or a directory, and publishes them', async () => {
    const old1 = generateKeyPairSync('ed25519').privateKey;
    const old2 = generateKeyPairSync('ed25519').privateKey;
    const sig1 = new SigningKeys(old1).sign('x');
    const sig2 = new SigningKeys(old2).sign('x');
    const keysDir = path.join(dir, 'previous');
    await fs.mkdir(keysDir);
    await fs.writeFile(
      path.join(keysDir, 'a.pem'),
      createPublicKey(old1).export({ type: 'spki', format: 'pem' }),
    );
    await fs.writeFile(path.join(keysDir, 'b.pem'), pkcs8(old2)); // a retired private key file works too
    await fs.writeFile(path.join(keysDir, 'notes.txt'), 'ignored');
    const current = path.join(dir, 'current.pem');
    await fs.writeFile(current, pkcs8());
    const { keys } = await loadSigningKeys({ keyFile: current, previousKeys: keysDir, dataDir: dir });
    expect(keys.verify(sig1.key_id, 'x', sig1.signature)).toBe('ok');
    expect(keys.verify(sig2.key_id, 'x', sig2.signature)).toBe('ok');
    const published = keys.publicKeys();
    expect(published.map((k) => k.current)).toEqual([true, false, false]);
    expect(published[0].id).toBe(keys.currentKeyId);
    expect(published.every((k) => k.public_key_pem.startsWith('-----BEGIN PUBLIC KEY-----'))).toBe(true);
    expect(JSON.stringify(published)).not.toContain('PRIVATE');

    const bundle = path.join(dir, 'bundle.pem');
    await fs.writeFile(bundle, published.map((k) => k.public_key_pem).join(''));
    expect(new KeyRing(parsePublicKeys(await fs.readFile(bundle, 'utf8'))).size).toBe(3);
    const error = await loadSigningKeys({
      keyFile: current,
      previousKeys: path.join(dir, 'nope'),
      dataDir: dir,
    }).catch((e) => e);
    expect((error as ConfigError).variable).toBe('AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE');
  });
});
