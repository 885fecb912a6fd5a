import { createHash, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { compilePolicy } from './compile.js';
import { BundleVerificationError } from './errors.js';
import { deepFreeze } from './freeze.js';
import type { PolicyDocument } from './types.js';

/** What a bundle says: the tenant's effective policy and when it may be used. */
export interface BundlePayload {
  readonly tenant_id: string;
  /**
   * Monotonic per tenant; verifiers refuse versions below the last one they accepted (`minVersion`). `0` is the
   * bundle of a tenant that never had a policy (an empty, default-allow document); every change adds one.
   */
  readonly version: number;
  readonly policy: PolicyDocument;
  /** RFC 3339 UTC timestamps, e.g. `2026-01-01T00:00:00Z`. */
  readonly issued_at: string;
  readonly expires_at: string;
}

/** A signed bundle, as served by `GET /v1/policy/bundle` and cached on disk by proxies. */
export interface SignedBundle {
  readonly payload: BundlePayload;
  /** base64url Ed25519 signature over the RFC 8785 canonical JSON bytes of `payload`. */
  readonly signature: string;
  /** `keyIdOf` the signing key's public half. */
  readonly key_id: string;
  readonly alg: 'Ed25519';
}

export interface VerifyBundleOptions {
  /** Trusted public keys: a map by key id, or a list whose ids are derived with `keyIdOf`. Keep retired keys here while their bundles may still be in use. */
  readonly keys: ReadonlyMap<string, KeyObject> | readonly KeyObject[];
  /** The current time; injected so verification is deterministic. */
  readonly now: Date | number;
  /** Refuse bundles with a lower version (`ROLLBACK`): pass the highest version accepted so far. */
  readonly minVersion?: number;
  /** Refuse bundles for any other tenant (`TENANT_MISMATCH`). */
  readonly tenantId?: string;
  /** Tolerance for clock differences on `issued_at` and `expires_at`; default 60 seconds. */
  readonly clockSkewSeconds?: number;
}

const BUNDLE_FIELDS = ['payload', 'signature', 'key_id', 'alg'];
const PAYLOAD_FIELDS = ['tenant_id', 'version', 'policy', 'issued_at', 'expires_at'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function ed25519Public(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('expected an Ed25519 key');
  return key.type === 'private' ? createPublicKey(key) : key;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = ed25519Public(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

/**
 * The key id of an Ed25519 key: base64url of the first 16 bytes of SHA-256 over the raw 32-byte public key
 * (22 characters). A private key gives the id of its public half.
 */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest().subarray(0, 16).toString('base64url');
}

/** The public key as a JWK (`kty: OKP`, `crv: Ed25519`, `kid` = `keyIdOf`), for `GET /v1/policy/verification-key`. */
export function publicKeyJwk(key: KeyObject): JsonWebKey & { kid: string; alg: 'EdDSA'; use: 'sig' } {
  const publicKey = ed25519Public(key);
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    x: rawPublicKey(publicKey).toString('base64url'),
    kid: keyIdOf(publicKey),
    alg: 'EdDSA',
    use: 'sig',
  };
}

/** Imports a verification key from a JWK (as `publicKeyJwk` writes it) or a PEM string; refuses anything but Ed25519 public keys. */
export function importPublicKey(source: string | JsonWebKey): KeyObject {
  const key =
    typeof source === 'string' ? createPublicKey(source) : createPublicKey({ key: source, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('verification keys must be Ed25519');
  return key;
}

/** The exact bytes a bundle signature covers. */
export function signingInput(payload: BundlePayload): Buffer {
  return Buffer.from(canonicalJson(payload), 'utf8');
}

/** Why a payload is not well-formed, or undefined. The policy itself is checked by `compilePolicy`. */
function payloadProblem(payload: unknown): string | undefined {
  if (!isPlainObject(payload)) return 'payload must be an object';
  const unknown = Object.keys(payload).filter((key) => !PAYLOAD_FIELDS.includes(key));
  if (unknown.length > 0) return `payload has unknown fields: ${unknown.join(', ')}`;
  if (typeof payload.tenant_id !== 'string' || payload.tenant_id === '')
    return 'tenant_id must be a non-empty string';
  if (!Number.isSafeInteger(payload.version) || (payload.version as number) < 0)
    return 'version must be a non-negative integer';
  if (!isPlainObject(payload.policy)) return 'policy must be an object';
  for (const field of ['issued_at', 'expires_at'] as const) {
    const value = payload[field];
    if (typeof value !== 'string' || !TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
      return `${field} must be an RFC 3339 UTC timestamp like 2026-01-01T00:00:00Z`;
    }
  }
  if (Date.parse(payload.expires_at as string) <= Date.parse(payload.issued_at as string)) {
    return 'expires_at must be after issued_at';
  }
  return undefined;
}

/**
 * Signs a bundle with an Ed25519 private key. Refuses (TypeError, or PolicyCompileError for the policy) a
 * payload a verifier would refuse, so a signer can never publish a bundle that does not compile.
 */
export function signBundle(payload: BundlePayload, privateKey: KeyObject): SignedBundle {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('signBundle needs an Ed25519 private key');
  }
  const problem = payloadProblem(payload);
  if (problem) throw new TypeError(`cannot sign bundle: ${problem}`);
  compilePolicy(payload.policy);
  const copy = deepFreeze(JSON.parse(canonicalJson(payload)) as BundlePayload);
  return {
    payload: copy,
    signature: sign(null, signingInput(copy), privateKey).toString('base64url'),
    key_id: keyIdOf(privateKey),
    alg: 'Ed25519',
  };
}

/**
 * Verifies a signed bundle (an object, or its JSON text) and returns its deep-frozen payload. Checks, in order:
 * shape (`MALFORMED`), key id among the trusted keys (`UNKNOWN_KEY`), the Ed25519 signature over the canonical
 * payload (`BAD_SIGNATURE`), payload fields (`MALFORMED`), tenant (`TENANT_MISMATCH`), validity window
 * (`NOT_YET_VALID`, `EXPIRED`) and version (`ROLLBACK`). Throws `BundleVerificationError`; never returns
 * anything partially trusted. Compile `payload.policy` with `compilePolicy` before use.
 */
export function verifyBundle(bundle: unknown, options: VerifyBundleOptions): BundlePayload {
  const malformed = (message: string) => new BundleVerificationError('MALFORMED', message);
  let parsed = bundle;
  if (typeof bundle === 'string') {
    try {
      parsed = JSON.parse(bundle);
    } catch {
      throw malformed('bundle is not valid JSON');
    }
  }
  if (!isPlainObject(parsed)) throw malformed('bundle must be an object');
  const unknown = Object.keys(parsed).filter((key) => !BUNDLE_FIELDS.includes(key));
  if (unknown.length > 0) throw malformed(`bundle has unknown fields: ${unknown.join(', ')}`);
  const { payload, signature, key_id: keyId, alg } = parsed;
  if (alg !== 'Ed25519') throw malformed(`unsupported alg ${JSON.stringify(alg)}; only Ed25519 is accepted`);
  if (typeof keyId !== 'string' || keyId === '') throw malformed('key_id must be a non-empty string');
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
    throw malformed('signature must be 64 bytes of base64url');
  }
  // 86 base64url characters carry 516 bits for 512: the last one has 4 unused bits. Only the canonical spelling
  // (unused bits zero) is accepted, so a bundle with any character changed never verifies.
  const signatureBytes = Buffer.from(signature, 'base64url');
  if (signatureBytes.toString('base64url') !== signature) {
    throw malformed('signature is not canonical base64url (its last character has unused bits set)');
  }
  if (!isPlainObject(payload)) throw malformed('payload must be an object');
  let input: Buffer;
  try {
    input = Buffer.from(canonicalJson(payload), 'utf8');
  } catch (error) {
    throw malformed(`payload is not canonicalisable JSON: ${(error as Error).message}`);
  }

  const key = trustedKey(options.keys, keyId);
  if (!key)
    throw new BundleVerificationError('UNKNOWN_KEY', `no trusted key has id ${JSON.stringify(keyId)}`);
  if (!verify(null, input, key, signatureBytes)) {
    throw new BundleVerificationError(
      'BAD_SIGNATURE',
      `the signature does not match the payload for key ${keyId}`,
    );
  }

  const problem = payloadProblem(payload);
  if (problem) throw malformed(problem);
  const verified = deepFreeze(payload as unknown as BundlePayload);
  if (options.tenantId !== undefined && verified.tenant_id !== options.tenantId) {
    throw new BundleVerificationError(
      'TENANT_MISMATCH',
      `bundle is for tenant ${JSON.stringify(verified.tenant_id)}, expected ${JSON.stringify(options.tenantId)}`,
    );
  }
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  if (!Number.isFinite(now)) throw new TypeError('verifyBundle: now must be a valid time');
  const skew = (options.clockSkewSeconds ?? 60) * 1000;
  if (now + skew < Date.parse(verified.issued_at)) {
    throw new BundleVerificationError(
      'NOT_YET_VALID',
      `bundle is issued at ${verified.issued_at}, in the future`,
    );
  }
  if (now - skew >= Date.parse(verified.expires_at)) {
    throw new BundleVerificationError('EXPIRED', `bundle expired at ${verified.expires_at}`);
  }
  if (options.minVersion !== undefined && verified.version < options.minVersion) {
    throw new BundleVerificationError(
      'ROLLBACK',
      `bundle version ${verified.version} is older than version ${options.minVersion} already accepted`,
    );
  }
  return verified;
}

function trustedKey(keys: VerifyBundleOptions['keys'], keyId: string): KeyObject | undefined {
  const isMap = (k: VerifyBundleOptions['keys']): k is ReadonlyMap<string, KeyObject> =>
    typeof (k as ReadonlyMap<string, KeyObject>).get === 'function';
  const key = isMap(keys) ? keys.get(keyId) : keys.find((candidate) => keyIdOf(candidate) === keyId);
  return key && ed25519Public(key);
}
