import { describe, expect, it } from '@jest/globals';
import { fingerprint, withoutMeta } from './fingerprint.js';

describe('fingerprints shared by the proxy and the gateway', () => {
  it('is the sha256 of the canonical JSON: member order and spelling of numbers do not matter', () => {
    const a = fingerprint({ b: 1, a: [1e2, 'x'] });
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fingerprint(JSON.parse('{"a":[100,"x"],"b":1.0}'))).toBe(a);
    expect(fingerprint({ b: 2, a: [100, 'x'] })).not.toBe(a);
  });

  it('a value that is not I-JSON has none, or the digest of the fallback text it came from', () => {
    const lone = JSON.parse('{"q":"\\ud800"}');
    expect(fingerprint(lone)).toBeUndefined();
    const one = fingerprint(lone, '{"q":"\\ud800"}');
    expect(one).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fingerprint(lone, '{"q":"\\udfff"}')).not.toBe(one);
  });

  it('withoutMeta drops _meta and nothing else; non-objects pass through', () => {
    const params = { name: 'x', arguments: { _meta: 1 }, _meta: { traceparent: 't' } };
    expect(withoutMeta(params)).toEqual({ name: 'x', arguments: { _meta: 1 } });
    expect(params._meta).toEqual({ traceparent: 't' });
    const plain = { name: 'x' };
    expect(withoutMeta(plain)).toBe(plain);
    expect(withoutMeta(undefined)).toBeUndefined();
    expect(withoutMeta([1])).toEqual([1]);
  });
});
