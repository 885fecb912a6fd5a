import { describe, expect, it } from '@jest/globals';
import { scimRefusalOf } from './scim-standing.js';

describe('scimRefusalOf', () => {
  const deletedAt = new Date('2026-01-01T00:10:00Z');
  const at = (iso: string) => Date.parse(iso) / 1000;

  it('refuses an inactive person, whatever the token', () => {
    expect(scimRefusalOf({ active: false, deletedAt: null }, at('2026-01-01T00:00:00Z'))).toBe(
      'user_deactivated',
    );
  });

  it('refuses a token issued before (or within the skew after) the deletion, not one issued later', () => {
    expect(scimRefusalOf({ active: null, deletedAt }, at('2026-01-01T00:05:00Z'))).toBe('user_deleted');
    expect(scimRefusalOf({ active: null, deletedAt }, at('2026-01-01T00:10:30Z'))).toBe('user_deleted');
    expect(scimRefusalOf({ active: null, deletedAt }, at('2026-01-01T00:12:00Z'))).toBeUndefined();
  });

  it('lets in an active person (re-provisioned after a deletion) and anyone SCIM never knew', () => {
    expect(scimRefusalOf({ active: true, deletedAt }, at('2026-01-01T00:05:00Z'))).toBeUndefined();
    expect(scimRefusalOf({ active: null, deletedAt: null }, 0)).toBeUndefined();
  });
});
