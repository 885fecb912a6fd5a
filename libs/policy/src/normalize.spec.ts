import { describe, expect, it } from '@jest/globals';
import { normalizeName } from './normalize.js';

describe('normalizeName', () => {
  it.each([
    ['read_file', 'read_file', false],
    ['READ_File', 'read_file', false],
    ['r\u0435ad_file', 'read_file', true],
    ['R\u0415\u0410D_FILE', 'read_file', true],
    ['\u0420\u0415\u0410D', 'pead', true],
    ['read\u200b_file', 'read_file', true],
    ['read\u00ad_file', 'read_file', true],
    ['\u2060read_file\u2064', 'read_file', true],
    ['\ufeffread_file', 'read_file', true],
    ['\uff52\uff45\uff41\uff44_\uff46\uff49\uff4c\uff45', 'read_file', true],
    ['r\u0113ad_file', 'read_file', true],
    ['\u03c1\u03bf\u03c1', 'pop', true],
    ['read\u2013file', 'read-file', true],
    ['  read_file\t', 'read_file', true],
    ['\u8aad\u307f\u53d6\u308a', '\u8aad\u307f\u53d6\u308a', false],
    ['stra\u00dfe', 'stra\u00dfe', false],
    ['', '', false],
  ])('%j → %j (disguised: %s)', (raw, key, disguised) => {
    expect(normalizeName(raw)).toEqual({ key, disguised });
  });

  it('keeps ASCII look-alikes apart', () => {
    expect(normalizeName('read_fi1e').key).toBe('read_fi1e');
    expect(normalizeName('t00l').key).toBe('t00l');
  });

  it('is idempotent', () => {
    for (const raw of ['R\u0435AD\u200b_\uff46ile', 'x\u0301y', '\u1d00\u0299c']) {
      const once = normalizeName(raw).key;
      expect(normalizeName(once).key).toBe(once);
    }
  });
});
