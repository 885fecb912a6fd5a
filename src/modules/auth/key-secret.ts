import {
  createHash,
  hash,
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
 * as a salted SHA-256 digest and compared in constant time.
 *
 * Why not a password hash: a slow KDF (scrypt, argon2) makes guessing a low-entropy password expensive; a key is
 * 256 random bits, so there is nothing to guess and the slowness bought nothing but cost — tens of milliseconds
 * of CPU for every key created (every endpoint enrollment) and every key a replica verifies cold (bench `fleet`
 * bulk enrollment ran 28× plain SQL on scrypt). Keys stored before as `scrypt$…` still verify.
 */
const KEY_PATTERN = /^abom_[A-Za-z0-9_-]{43}$/;
const LOOKUP_PREFIX_LENGTH = API_KEY_PREFIX.length + 12;
const SALT_BYTES = 16;

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
 * here, verified OIDC bearer tokens in the SSO resolver. SHA-256, since the key stands for the credential in a
 * cache that answers "authenticated"; one-shot (no Hash object, straight to a string), as the gateway's: it runs
 * on every authenticated request (docs/performance.md "Bundle round").
 */
export function cacheDigest(raw: string): string {
  return hash('sha256', raw, 'base64url');
}

export async function hashSecret(raw: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return ['sha256', salt.toString('base64url'), sha256(salt, raw).toString('base64url')].join('$');
}

export async function verifySecret(raw: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  let expected: Buffer;
  let actual: Buffer;
  if (parts[0] === 'sha256' && parts.length === 3 && parts[1] && parts[2]) {
    expected = Buffer.from(parts[2], 'base64url');
    actual = sha256(Buffer.from(parts[1], 'base64url'), raw);
  } else if (parts[0] === 'scrypt' && parts.length === 6 && parts[4] && parts[5]) {
    const [, n, r, p, salt, hash] = parts;
    expected = Buffer.from(hash, 'base64url');
    actual = await scrypt(raw, Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    });
  } else {
    return false;
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function sha256(salt: Buffer, raw: string): Buffer {
  return createHash('sha256').update(salt).update(raw).digest();
}

/** Verifies keys hashed before SHA-256 (`scrypt$N$r$p$salt$hash`); new keys are never hashed with it. */
function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
