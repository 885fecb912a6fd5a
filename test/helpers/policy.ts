import type { KeyObject } from 'node:crypto';
import type { PolicyVerificationKeys } from '../../libs/contracts/src/index.js';
import { importPublicKey, type PolicyDocument, type SignedBundle } from '../../libs/policy/src/index.js';
import type { TestApp } from './app.js';
import { bearer } from './factories.js';

export const POLICIES = '/v1/gateway/policies';

/** A small valid document. */
export function policyDocument(rules: PolicyDocument['rules'] = [], extra: Partial<PolicyDocument> = {}) {
  return { version: 1, rules, ...extra } as PolicyDocument;
}

export function api(t: TestApp, key: string) {
  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    t.app.inject({
      method,
      url,
      headers: { ...bearer(key), ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  return {
    call,
    create: (body: object) => call('POST', POLICIES, body),
    get: (id: string, query = '') => call('GET', `${POLICIES}/${id}${query}`),
    put: (id: string, body: object, headers?: Record<string, string>) =>
      call('PUT', `${POLICIES}/${id}`, body, headers),
    remove: (id: string, headers?: Record<string, string>, body?: object) =>
      call('DELETE', `${POLICIES}/${id}`, body, headers),
    evaluate: (body: object) => call('POST', '/v1/gateway/evaluate', body),
    bundle: (headers?: Record<string, string>) => call('GET', '/v1/policy/bundle', undefined, headers),
    keys: () => call('GET', '/v1/policy/verification-key'),
  };
}

/** The served verification keys, parsed the way a proxy would: from the PEM and, separately, from the JWK. */
export async function servedKeys(
  t: TestApp,
  key: string,
): Promise<{ body: PolicyVerificationKeys; fromPem: KeyObject[]; fromJwk: KeyObject[] }> {
  const res = await api(t, key).keys();
  if (res.statusCode !== 200) throw new Error(`verification-key: ${res.statusCode} ${res.body}`);
  const body = res.json() as PolicyVerificationKeys;
  return {
    body,
    fromPem: body.keys.map((k) => importPublicKey(k.public_key_pem)),
    fromJwk: body.keys.map((k) => importPublicKey(k.jwk)),
  };
}

export async function fetchBundle(t: TestApp, key: string): Promise<{ bundle: SignedBundle; etag: string }> {
  const res = await api(t, key).bundle();
  if (res.statusCode !== 200) throw new Error(`bundle: ${res.statusCode} ${res.body}`);
  return { bundle: res.json() as SignedBundle, etag: String(res.headers.etag) };
}

/** Row counts of the policy tables, to prove a refused request wrote nothing. */
export async function policyCounts(t: TestApp): Promise<string> {
  return JSON.stringify(
    await t.db.dataSource
      .query(`SELECT (SELECT count(*) FROM policies) AS p, (SELECT count(*) FROM policy_versions) AS v,
                                        (SELECT coalesce(sum(version), 0) FROM policy_bundles) AS b,
                                        (SELECT count(*) FROM audit_entries) AS a`),
  );
}
