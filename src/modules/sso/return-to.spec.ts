import { describe, expect, it } from '@jest/globals';
import { safeReturnTo } from './return-to.js';

describe('safeReturnTo', () => {
  it.each(['/', '/fleet', '/fleet?tab=servers#x', '/v1/auth/me'])('keeps the relative path %s', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    '/x\r\nset-cookie: a=b',
    '',
    'fleet',
    `/${'a'.repeat(600)}`,
    42,
    undefined,
  ])('turns %p into /', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });
});
