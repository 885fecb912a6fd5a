import { createHash } from 'node:crypto';

/**
 * What is stored for a random bearer secret (a session cookie, a SCIM token, a browser-login state): SHA-256, hex.
 * Each is 256 random bits, so a slow or salted hash would add nothing; the database never holds a usable secret.
 */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
