import { createPrivateKey, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../../../libs/policy/src/index.js';

/**
 * The key id of an Ed25519 key (private keys give their public half's). One derivation for every signature the
 * control plane makes: it is libs/policy's, so a bundle's `key_id` and `GET /v1/policy/verification-key` agree
 * with what proxies and gateways compute.
 */
export { keyIdOf };

/**
 * Ed25519 public keys by key id, for verifying signatures: the control plane's current and retired keys, or
 * (offline, `agent-bom audit verify`) the keys an operator pinned. No Nest, no I/O: the CLI imports this alone.
 *
 * Key id = base64url of the first 16 bytes of SHA-256 over the raw 32-byte public key, so anyone holding the
 * public key can compute it.
 */
export type SignatureCheck = 'ok' | 'unknown_key' | 'bad_signature';

export class KeyRing {
  private readonly byId = new Map<string, KeyObject>();

  constructor(publicKeys: Iterable<KeyObject>) {
    for (const key of publicKeys) this.byId.set(keyIdOf(key), key);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  get size(): number {
    return this.byId.size;
  }

  publicKey(id: string): KeyObject | undefined {
    return this.byId.get(id);
  }

  /** Checks an Ed25519 signature (base64url) over `payload` made by the key `keyId`. */
  verify(keyId: string, payload: string | Buffer, signature: string): SignatureCheck {
    const key = this.byId.get(keyId);
    if (!key) return 'unknown_key';
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== 64 || bytes.toString('base64url') !== signature) return 'bad_signature';
    return verify(null, Buffer.from(payload), key, bytes) ? 'ok' : 'bad_signature';
  }
}

/** The raw 32-byte Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]+?-----END \1-----/g;

/**
 * Every Ed25519 public key in a PEM text (one or more blocks). Private-key blocks are accepted and reduced to
 * their public half, so an operator can point at the retired key file itself. Throws naming the problem.
 */
export function parsePublicKeys(pem: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const [block, label] = match;
    let key: KeyObject;
    try {
      key = label.endsWith('PRIVATE KEY')
        ? createPublicKey(createPrivateKey(block))
        : createPublicKey({ key: block, format: 'pem' });
    } catch {
      throw new Error(`a "${label}" block is not a readable key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Error(`a "${label}" block is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
    }
    keys.push(key);
  }
  if (keys.length === 0) throw new Error('contains no PEM key');
  return keys;
}

/** Reads a PKCS8 PEM Ed25519 private key; throws naming the problem. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('is not a PKCS8 PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`holds a ${key.asymmetricKeyType ?? 'unknown'} key; an Ed25519 key is required`);
  }
  return key;
}
