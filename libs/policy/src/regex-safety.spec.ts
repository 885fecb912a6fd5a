import { describe, expect, it } from '@jest/globals';
import { compileRegexLiteral, globMatch } from './patterns.js';
import { regexRisk } from './regex-safety.js';

describe('regexRisk', () => {
  const risky: string[] = [
    '(a+)+',
    '^(a+)+$',
    '(.*)*',
    '(.+)+x',
    '(\\w+\\s?)*$',
    '(x\\w+)+',
    '(?:a{1,3}){2}',
    '(a*)*b',
    '((ab)*)+',
    '(a|a)*',
    '(a|ab)+',
    '(\\w|\\d)+',
    '(x|)*',
    '(x(a|a)y)+',
    '((a|a))+',
    '(?=(a+)+)',
    '^(([a-z])+.)+[A-Z]([a-z])+$',
  ];
  it.each(risky)('refuses %s', (source) => {
    expect(regexRisk(source, '')).toEqual(expect.any(String));
  });

  const safe: string[] = [
    'abc',
    '^run_.*$',
    'a+b+c+',
    '^(?:foo|bar)+$',
    '^[a-z]+(?:_[a-z]+)*$',
    '([a-z]+_)*',
    '(?:-[a-z]+)+',
    '(\\d{3}-)+',
    '^(ab){2}$',
    '^(?:https?|ftp)://',
    '\\.(?:pem|key)$',
    '[(a+)+]',
    '\\(a+\\)+',
  ];
  it.each(safe)('accepts %s', (source) => {
    expect(regexRisk(source, '')).toBeUndefined();
  });

  it('honours the i flag when comparing alternatives', () => {
    expect(regexRisk('(a|B)+', '')).toBeUndefined();
    expect(regexRisk('(a|A)+', 'i')).toEqual(expect.any(String));
  });
});

describe('compileRegexLiteral', () => {
  it('compiles /source/flags', () => {
    const regex = compileRegexLiteral('/^a\\/b$/i');
    expect(regex).toBeInstanceOf(RegExp);
    expect((regex as RegExp).test('A/B')).toBe(true);
  });

  it.each([
    ['no slashes', 'abc', /write regexes as \/source\/flags/],
    ['stateful flag g', '/a/g', /flags must be a subset/],
    ['sticky flag y', '/a/y', /flags must be a subset/],
    ['repeated flag', '/a/ii', /flags must be a subset/],
    ['syntax error', '/a(/', /invalid regex \/a\(\/: /],
    ['too long', `/${'x'.repeat(1000)}/`, /more than the limit of 1000/],
    ['catastrophic', '/(a+)+/', /catastrophic backtracking/],
  ])('refuses %s', (_name, literal, expected) => {
    expect(compileRegexLiteral(literal)).toMatch(expected);
  });
});

describe('globMatch', () => {
  it.each([
    ['fs_*', 'fs_read', true],
    ['fs_*', 'fs_', true],
    ['fs_*', 'xfs_read', false],
    ['*_delete_*', 'repo_delete_branch', true],
    ['*_delete_*', 'repo_delete', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s ~ %s → %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('has no pathological inputs', () => {
    const started = process.cpuUsage(); // CPU, not wall time: a loaded machine stretches wall time
    expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(1024))).toBe(false);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(200);
  });
});
