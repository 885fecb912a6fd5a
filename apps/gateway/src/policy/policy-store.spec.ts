import { describe, expect, it } from '@jest/globals';
import { bundleStoreFor } from './policy-store.js';

describe('bundleStoreFor', () => {
  it('memory without a state dir; <dir>/policy/<tenant> with one', () => {
    expect(bundleStoreFor(undefined, 'acme')).toMatchObject({ location: 'memory', persistent: false });
    expect(bundleStoreFor('/var/lib/abom', 'acme')).toMatchObject({
      location: '/var/lib/abom/policy/acme',
      persistent: true,
    });
  });

  it('a tenant id that is not one (from a hostile answer) never chooses the path', () => {
    for (const hostile of ['..', '../../etc', 'a/b', '']) {
      expect(bundleStoreFor('/var/lib/abom', hostile).location).toMatch(
        /^\/var\/lib\/abom\/policy\/tenant-[0-9a-f]{16}$/,
      );
    }
  });
});
