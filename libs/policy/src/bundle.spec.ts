import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { BASELINE_POLICY } from './baseline.js';
import {
  importPublicKey,
  keyIdOf,
  publicKeyJwk,
  signBundle,
  signingInput,
  verifyBundle,
  type BundlePayload,
} from './bundle.js';
import { canonicalJson } from './canonical-json.js';
import { BundleVerificationError, PolicyCompileError, type BundleErrorCode } from './errors.js';

const current = generateKeyPairSync('ed25519');
const retired = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const NOW = Date.parse('2026-03-01T12:00:00Z');

const payload = (overrides: Partial<BundlePayload> = {}): BundlePayload => ({
  tenant_id: 'acme',
  version: 7,
  policy: BASELINE_POLICY,
  issued_at: '2026-03-01T00:00:00Z',
  expires_at: '2026-03-02T00:00:00Z',
  ...overrides,
});

const keys = new Map<string, KeyObject>([
  [keyIdOf(current.publicKey), current.publicKey],
  [keyIdOf(retired.publicKey), retired.publicKey],
]);

function codeOf(run: () => unknown): BundleErrorCode | 'none' {
  try {
    run();
    return 'none';
  } catch (error) {
    expect(error).toBeInstanceOf(BundleVerificationError);
    return (error as BundleVerificationError).code;
  }
}

describe('keyIdOf', () => {
  it('is 22 base64url characters derived from the public key, the same for both halves', () => {
    const id = keyIdOf(current.publicKey);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(keyIdOf(current.privateKey)).toBe(id);
    expect(keyIdOf(retired.publicKey)).not.toBe(id);
  });

  it('round-trips through the published JWK and PEM forms', () => {
    const jwk = publicKeyJwk(current.privateKey);
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: keyIdOf(current.publicKey), alg: 'EdDSA' });
    expect(keyIdOf(importPublicKey(jwk))).toBe(jwk.kid);
    const pem = current.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(keyIdOf(importPublicKey(pem))).toBe(jwk.kid);
  });

  it('refuses keys of other types', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => keyIdOf(rsa.publicKey)).toThrow(TypeError);
    expect(() => importPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)).toThrow(
      TypeError,
    );
  });
});

describe('signBundle', () => {
  it('signs the canonical JSON of the payload', () => {
    const bundle = signBundle(payload(), current.privateKey);
    expect(bundle.alg).toBe('Ed25519');
    expect(bundle.key_id).toBe(keyIdOf(current.publicKey));
    expect(bundle.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(signingInput(bundle.payload).toString('utf8')).toBe(canonicalJson(payload()));
  });

  it('refuses a payload a verifier would refuse', () => {
    expect(() => signBundle(payload({ expires_at: '2026-02-01T00:00:00Z' }), current.privateKey)).toThrow(
      /expires_at must be after/,
    );
    expect(() => signBundle(payload({ version: -1 }), current.privateKey)).toThrow(/version/);
    expect(() => signBundle(payload({ version: 1.5 }), current.privateKey)).toThrow(/version/);
    expect(() => signBundle(payload({ issued_at: 'yesterday' }), current.privateKey)).toThrow(/issued_at/);
    expect(() =>
      signBundle(
        payload({ policy: { version: 1, rules: [{ id: 'x', effect: 'deny', tools: ['/(/'] }] } }),
        current.privateKey,
      ),
    ).toThrow(PolicyCompileError);
    expect(() => signBundle(payload(), current.publicKey)).toThrow(/private key/);
  });
});

describe('verifyBundle', () => {
  const bundle = signBundle(payload(), current.privateKey);

  it('accepts version 0, the bundle of a tenant that has no policy yet, and refuses it after a newer one', () => {
    const empty = signBundle(payload({ version: 0, policy: { version: 1, rules: [] } }), current.privateKey);
    expect(verifyBundle(empty, { keys, now: NOW }).version).toBe(0);
    expect(codeOf(() => verifyBundle(empty, { keys, now: NOW, minVersion: 1 }))).toBe('ROLLBACK');
  });

  it('refuses a non-canonical signature spelling (unused bits of the last character set) as MALFORMED', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(bundle.signature.at(-1)!);
    const respelt = bundle.signature.slice(0, -1) + alphabet[last | 1]; // same 64 bytes, other spelling
    expect(Buffer.from(respelt, 'base64url').equals(Buffer.from(bundle.signature, 'base64url'))).toBe(true);
    expect(codeOf(() => verifyBundle({ ...bundle, signature: respelt }, { keys, now: NOW }))).toBe(
      'MALFORMED',
    );
  });

  it('returns the payload of a good bundle, given as an object or as JSON text', () => {
    expect(verifyBundle(bundle, { keys, now: NOW })).toEqual(payload());
    expect(verifyBundle(JSON.stringify(bundle), { keys: [current.publicKey], now: new Date(NOW) })).toEqual(
      payload(),
    );
    expect(Object.isFrozen(verifyBundle(bundle, { keys, now: NOW }).policy)).toBe(true);
  });

  it('verifies after a JSON round trip that reorders keys', () => {
    const reordered = JSON.parse(
      JSON.stringify({
        alg: bundle.alg,
        key_id: bundle.key_id,
        signature: bundle.signature,
        payload: { ...bundle.payload, tenant_id: 'acme' },
      }),
    );
    expect(verifyBundle(reordered, { keys, now: NOW }).version).toBe(7);
  });

  it('keeps bundles signed with a rotated-out key verifiable while that key is trusted', () => {
    const old = signBundle(payload({ version: 6 }), retired.privateKey);
    expect(verifyBundle(old, { keys, now: NOW }).version).toBe(6);
    expect(codeOf(() => verifyBundle(old, { keys: [current.publicKey], now: NOW }))).toBe('UNKNOWN_KEY');
  });

  it('rejects every single-byte change of the payload', () => {
    const text = JSON.stringify(bundle);
    const start = text.indexOf('"payload":') + '"payload":'.length;
    const end = text.indexOf(',"signature"');
    let checked = 0;
    for (let i = start; i < end; i += 7) {
      const byte = text.charCodeAt(i);
      const flipped = String.fromCharCode(byte === 0x61 ? 0x62 : 0x61);
      const tampered = text.slice(0, i) + flipped + text.slice(i + 1);
      const code = codeOf(() => verifyBundle(tampered, { keys, now: NOW }));
      expect(['BAD_SIGNATURE', 'MALFORMED']).toContain(code);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it.each<[string, () => unknown, BundleErrorCode]>([
    [
      'a changed rule effect',
      () => ({
        ...bundle,
        payload: { ...bundle.payload, policy: { ...bundle.payload.policy, default_effect: 'deny' } },
      }),
      'BAD_SIGNATURE',
    ],
    ['a changed version', () => ({ ...bundle, payload: { ...bundle.payload, version: 8 } }), 'BAD_SIGNATURE'],
    [
      'a changed expiry',
      () => ({ ...bundle, payload: { ...bundle.payload, expires_at: '2027-01-01T00:00:00Z' } }),
      'BAD_SIGNATURE',
    ],
    [
      'an added payload field',
      () => ({ ...bundle, payload: { ...bundle.payload, extra: true } }),
      'BAD_SIGNATURE',
    ],
    [
      'a flipped signature bit',
      () => ({ ...bundle, signature: flipFirstChar(bundle.signature) }),
      'BAD_SIGNATURE',
    ],
    [
      'a signature by another key under this key id',
      () => ({ ...signBundle(payload(), stranger.privateKey), key_id: bundle.key_id }),
      'BAD_SIGNATURE',
    ],
    ['a signature by an untrusted key', () => signBundle(payload(), stranger.privateKey), 'UNKNOWN_KEY'],
    ['a wrong alg', () => ({ ...bundle, alg: 'HS256' }), 'MALFORMED'],
    [
      'a missing signature',
      () => ({ payload: bundle.payload, key_id: bundle.key_id, alg: 'Ed25519' }),
      'MALFORMED',
    ],
    ['a short signature', () => ({ ...bundle, signature: 'abc' }), 'MALFORMED'],
    ['an unknown bundle field', () => ({ ...bundle, note: 'x' }), 'MALFORMED'],
    ['a payload that is not an object', () => ({ ...bundle, payload: 'x' }), 'MALFORMED'],
    ['not JSON at all', () => '{"payload":', 'MALFORMED'],
    ['an array', () => [], 'MALFORMED'],
  ])('rejects %s', (_name, make, expected) => {
    expect(codeOf(() => verifyBundle(make(), { keys, now: NOW }))).toBe(expected);
  });

  it('rejects a validly signed but malformed payload', () => {
    // A buggy signer could sign anything: the verifier still checks the fields after the signature.
    const bad = { tenant_id: 'acme', version: -1, policy: {}, issued_at: 'x', expires_at: 'y' };
    const forged = {
      payload: bad,
      signature: signRaw(bad),
      key_id: keyIdOf(current.publicKey),
      alg: 'Ed25519',
    };
    expect(codeOf(() => verifyBundle(forged, { keys, now: NOW }))).toBe('MALFORMED');
  });

  it('rejects an expired bundle, and one not yet valid, allowing the clock skew', () => {
    const expired = signBundle(
      payload({ issued_at: '2026-01-01T00:00:00Z', expires_at: '2026-02-01T00:00:00Z' }),
      current.privateKey,
    );
    expect(codeOf(() => verifyBundle(expired, { keys, now: NOW }))).toBe('EXPIRED');
    const future = signBundle(
      payload({ issued_at: '2026-03-01T13:00:00Z', expires_at: '2026-03-02T00:00:00Z' }),
      current.privateKey,
    );
    expect(codeOf(() => verifyBundle(future, { keys, now: NOW }))).toBe('NOT_YET_VALID');
    const slightlyAhead = signBundle(payload({ issued_at: '2026-03-01T12:00:30Z' }), current.privateKey);
    expect(codeOf(() => verifyBundle(slightlyAhead, { keys, now: NOW }))).toBe('none');
    expect(codeOf(() => verifyBundle(slightlyAhead, { keys, now: NOW, clockSkewSeconds: 0 }))).toBe(
      'NOT_YET_VALID',
    );
    const expiresNow = signBundle(payload({ expires_at: '2026-03-01T12:00:00Z' }), current.privateKey);
    expect(codeOf(() => verifyBundle(expiresNow, { keys, now: NOW, clockSkewSeconds: 0 }))).toBe('EXPIRED');
  });

  it('rejects a replayed older version (ROLLBACK) and accepts the same or newer', () => {
    const older = signBundle(payload({ version: 6 }), current.privateKey);
    expect(codeOf(() => verifyBundle(older, { keys, now: NOW, minVersion: 7 }))).toBe('ROLLBACK');
    expect(codeOf(() => verifyBundle(bundle, { keys, now: NOW, minVersion: 7 }))).toBe('none');
    expect(codeOf(() => verifyBundle(bundle, { keys, now: NOW, minVersion: 3 }))).toBe('none');
  });

  it('rejects a bundle for another tenant', () => {
    expect(codeOf(() => verifyBundle(bundle, { keys, now: NOW, tenantId: 'globex' }))).toBe(
      'TENANT_MISMATCH',
    );
    expect(codeOf(() => verifyBundle(bundle, { keys, now: NOW, tenantId: 'acme' }))).toBe('none');
  });

  it('checks the signature before anything the payload claims', () => {
    // An attacker-made payload claiming another tenant and an old version is refused for its signature.
    const tampered = { ...bundle, payload: { ...bundle.payload, tenant_id: 'globex', version: 1 } };
    expect(codeOf(() => verifyBundle(tampered, { keys, now: NOW, tenantId: 'acme', minVersion: 7 }))).toBe(
      'BAD_SIGNATURE',
    );
  });
});

function flipFirstChar(text: string): string {
  return (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
}

/** Signs arbitrary JSON with the current key, bypassing signBundle's own checks. */
function signRaw(value: unknown): string {
  return sign(null, Buffer.from(canonicalJson(value), 'utf8'), current.privateKey).toString('base64url');
}
