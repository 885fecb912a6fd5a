import {
  createHash,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { API_KEY_PREFIX } from '../../../libs/contracts/src/index.js';

/**
 * API key secrets: `abom_` + 32 random bytes in base64url (43 characters).
 * The first 12 characters after the prefix are stored in clear as a lookup prefix (they narrow the
 * candidates; 12 base64url characters of a 256-bit secret reveal nothing useful). The whole key is stored only
 * as a salted scrypt hash and compared in constant time.
 */
const KEY_PATTERN = /^abom_[A-Za-z0-9_-]{43}$/;
const LOOKUP_PREFIX_LENGTH = API_KEY_PREFIX.length + 12;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32, saltBytes: 16 } as const;

export interface NewSecret {
  raw: string;
  lookupPrefix: string;
}

export function generateSecret(): NewSecret {
  const raw = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { raw, lookupPrefix: lookupPrefixOf(raw) };
}

export function looksLikeApiKey(candidate: string): boolean {
  return KEY_PATTERN.test(candidate);
}

export function lookupPrefixOf(raw: string): string {
  return raw.slice(0, LOOKUP_PREFIX_LENGTH);
}

/**
 * A fast digest used only as an in-memory cache key, so a cache never holds the raw credential: verified API keys
 * here, verified OIDC bearer tokens in the SSO resolver.
 */
export function cacheDigest(raw: string): string {
  return createHash('sha256').update(raw).digest('base64url');
}

export async function hashSecret(raw: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const hash = await scrypt(raw, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifySecret(raw: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(raw, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
