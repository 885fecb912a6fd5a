import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  cacheDigest,
  generateSecret,
  hashSecret,
  looksLikeApiKey,
  lookupPrefixOf,
  verifySecret,
} from './key-secret.js';

describe('API key secrets', () => {
  it('generates abom_ keys of 256 random bits with a 12-character lookup prefix', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a.raw).toMatch(/^abom_[A-Za-z0-9_-]{43}$/);
    expect(a.raw).not.toBe(b.raw);
    expect(a.lookupPrefix).toBe(a.raw.slice(0, 17));
    expect(looksLikeApiKey(a.raw)).toBe(true);
    expect(looksLikeApiKey(a.raw + 'x')).toBe(false);
    expect(looksLikeApiKey('abom_short')).toBe(false);
    expect(lookupPrefixOf(a.raw)).toBe(a.lookupPrefix);
  });

  it('verifies the right key and refuses any other, including one differing in the last character', async () => {
    const { raw } = generateSecret();
    const stored = await hashSecret(raw);
    expect(stored).not.toContain(raw.slice(5));
    expect(await verifySecret(raw, stored)).toBe(true);
    const last = raw.endsWith('A') ? 'B' : 'A';
    expect(await verifySecret(raw.slice(0, -1) + last, stored)).toBe(false);
    expect(await verifySecret(generateSecret().raw, stored)).toBe(false);
  });

  it('salts: the same key hashes differently twice', async () => {
    const { raw } = generateSecret();
    expect(await hashSecret(raw)).not.toBe(await hashSecret(raw));
  });

  it('refuses a stored value it does not understand instead of throwing', async () => {
    expect(await verifySecret('abom_x', 'bcrypt$whatever')).toBe(false);
    expect(await verifySecret('abom_x', '')).toBe(false);
    expect(await verifySecret('abom_x', 'sha256$$')).toBe(false);
    expect(await verifySecret('abom_x', 'scrypt$16384$8$1$$')).toBe(false);
  });

  it('stores a SHA-256 digest (fast: a key is 256 random bits, not a password)', async () => {
    const { raw } = generateSecret();
    expect(await hashSecret(raw)).toMatch(/^sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it('still verifies a key stored with scrypt before the switch, and only that key', async () => {
    const { raw } = generateSecret();
    const salt = randomBytes(16);
    const hash = scryptSync(raw, salt, 32, { N: 16384, r: 8, p: 1 });
    const stored = ['scrypt', 16384, 8, 1, salt.toString('base64url'), hash.toString('base64url')].join('$');
    expect(await verifySecret(raw, stored)).toBe(true);
    expect(await verifySecret(generateSecret().raw, stored)).toBe(false);
  });

  it('keys the cache by the SHA-256 of the credential, never the credential: the same digest as before', () => {
    for (const raw of [generateSecret().raw, 'eyJhbGciOiJSUzI1NiJ9.e30.sig', 'ünïcødé', '']) {
      expect(cacheDigest(raw)).toBe(createHash('sha256').update(raw).digest('base64url'));
      expect(cacheDigest(raw)).not.toContain(raw.slice(5) || '\u0000');
    }
    expect(cacheDigest('abom_a')).not.toBe(cacheDigest('abom_b'));
  });
});
