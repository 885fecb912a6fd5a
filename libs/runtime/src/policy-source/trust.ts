import fs from 'node:fs/promises';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { importPublicKey } from '../../../policy/src/index.js';
import { PolicySourceError } from './policy-file.js';

/**
 * The public keys a verification-key document lists (`{keys:[{key_id, public_key_pem | jwk}]}`), imported. Keys
 * that do not import are skipped; key ids are recomputed from the keys themselves when verifying, never taken
 * from the document.
 */
export function keysFromDocument(text: string | undefined): KeyObject[] {
  if (!text) return [];
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return [];
  }
  const entries = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(entries)) return [];
  const keys: KeyObject[] = [];
  for (const entry of entries) {
    const source = (entry as { public_key_pem?: unknown; jwk?: unknown }) ?? {};
    try {
      if (typeof source.public_key_pem === 'string') keys.push(importPublicKey(source.public_key_pem));
      else if (source.jwk && typeof source.jwk === 'object')
        keys.push(importPublicKey(source.jwk as JsonWebKey));
    } catch {
      // not an Ed25519 key: ignore it
    }
  }
  return keys;
}

/**
 * Pinned verification keys from a file: PEM (one or more keys), a JWK, or a saved verification-key document.
 * With pinned keys only these are trusted: a cache or a control plane serving other keys cannot get a bundle
 * accepted. Throws `PolicySourceError` (the caller names its flag).
 */
export async function loadPinnedKeys(file: string): Promise<KeyObject[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new PolicySourceError(`cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const keys: KeyObject[] = [];
  const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g);
  try {
    if (pems) for (const pem of pems) keys.push(importPublicKey(pem));
    else {
      const parsed = JSON.parse(text) as { keys?: unknown; kty?: unknown };
      if (Array.isArray(parsed.keys)) keys.push(...keysFromDocument(text));
      else keys.push(importPublicKey(parsed as JsonWebKey));
    }
  } catch (error) {
    throw new PolicySourceError(`not an Ed25519 public key (${(error as Error).message})`);
  }
  if (keys.length === 0) throw new PolicySourceError('no Ed25519 public key in it');
  return keys;
}
