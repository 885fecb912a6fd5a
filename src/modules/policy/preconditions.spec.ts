import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../../core/errors/domain-error.js';
import { expectedVersion, noneMatchHits, parseIfMatch } from './preconditions.js';

describe('preconditions', () => {
  it.each([
    [undefined, undefined],
    ['"3"', [3]],
    ['3', [3]],
    [' "3", "4" ', [3, 4]],
    ['*', '*'],
  ])('If-Match %s → %j', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });

  it.each(['W/"3"', '"three"', '""', '"3', '"1234567890"', '"-1"'])(
    'If-Match %s is a 400 naming the header',
    (header) => {
      let error: unknown;
      try {
        parseIfMatch(header);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).details).toEqual([expect.objectContaining({ field: 'If-Match' })]);
    },
  );

  it('takes expected_version from the body, and refuses one that disagrees with If-Match', () => {
    expect(expectedVersion(undefined, 2)).toEqual([2]);
    expect(expectedVersion('"2"', 2)).toEqual([2]);
    expect(expectedVersion('*', 2)).toEqual([2]);
    expect(() => expectedVersion('"3"', 2)).toThrow(/expected_version/);
  });

  it('If-None-Match hits on the exact ETag, its weak form, a list containing it, or *', () => {
    const etag = '"7.abc"';
    expect(noneMatchHits(undefined, etag)).toBe(false);
    expect(noneMatchHits('"7.abc"', etag)).toBe(true);
    expect(noneMatchHits('W/"7.abc"', etag)).toBe(true);
    expect(noneMatchHits('"6.abc", "7.abc"', etag)).toBe(true);
    expect(noneMatchHits('*', etag)).toBe(true);
    expect(noneMatchHits('"6.abc"', etag)).toBe(false);
    expect(noneMatchHits('"7.abd"', etag)).toBe(false); // same version, other key: a new signature is needed
    expect(noneMatchHits('7.abc', etag)).toBe(false);
  });
});
