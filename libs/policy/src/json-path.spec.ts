import { describe, expect, it } from '@jest/globals';
import { parseJsonPath, selectPath } from './json-path.js';

const select = (path: string, value: unknown) => selectPath(value, parseJsonPath(path)).values;

describe('parseJsonPath', () => {
  it('parses every supported step', () => {
    expect(parseJsonPath('$.a[0][-1][*].*[\'b c\']["d"]..e..*')).toEqual([
      { kind: 'child', key: 'a' },
      { kind: 'index', index: 0 },
      { kind: 'index', index: -1 },
      { kind: 'wildcard' },
      { kind: 'wildcard' },
      { kind: 'child', key: 'b c' },
      { kind: 'child', key: 'd' },
      { kind: 'descend', key: 'e' },
      { kind: 'descend', key: null },
    ]);
  });

  it.each([
    ['a.b', /must start with "\$"/],
    ['$.', /expected a name at position 2/],
    ['$[', /expected \*, an index or a quoted name/],
    ["$['a", /unterminated quoted name/],
    ['$[0', /expected "]"/],
    ['$ .a', /unexpected " "/],
    ['$[?(@.x)]', /expected \*, an index or a quoted name/],
  ])('refuses %s', (path, message) => {
    expect(() => parseJsonPath(path)).toThrow(message);
  });
});

describe('selectPath', () => {
  const doc = { a: { b: [1, { c: 2 }, [3]] }, 'x y': true, list: [{ c: 4 }, { c: 5 }] };

  it.each([
    ['$', [doc]],
    ['$.a.b[0]', [1]],
    ['$.a.b[-1][0]', [3]],
    ['$.a.b[9]', []],
    ['$.list[*].c', [4, 5]],
    ['$.list.*.c', [4, 5]],
    ['$..c', [2, 4, 5]],
    ["$['x y']", [true]],
    ['$.missing.deeper', []],
    ['$.a.b.c', []],
  ])('%s', (path, expected) => {
    expect(select(path, doc)).toEqual(expected);
  });

  it('never reads inherited properties', () => {
    expect(select('$.constructor', {})).toEqual([]);
    expect(select('$.__proto__', JSON.parse('{"a":1}'))).toEqual([]);
    expect(select('$.length', [1, 2])).toEqual([]);
  });

  it('stops at the budget and says so', () => {
    const wide = { items: Array.from({ length: 20_000 }, (_, i) => i) };
    expect(selectPath(wide, parseJsonPath('$.items[*]')).truncated).toBe(true);
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = { k: deep };
    expect(selectPath(deep, parseJsonPath('$..k')).truncated).toBe(true);
    expect(selectPath({ k: { k: 1 } }, parseJsonPath('$..k')).truncated).toBe(false);
  });
});
