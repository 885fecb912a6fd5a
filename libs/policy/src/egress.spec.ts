import { describe, expect, it } from '@jest/globals';
import {
  HostAllowList,
  UNPARSEABLE_HOST,
  hostsInText,
  hostsOfHostValue,
  hostsOfUrl,
  normalizeHost,
} from './egress.js';

describe('normalizeHost', () => {
  it.each([
    ['EXAMPLE.com', 'example.com'],
    ['example.com.', 'example.com'],
    ['b\u00fccher.example', 'xn--bcher-kva.example'],
    ['\uff45\uff58.com', 'ex.com'],
    ['evil%2ecom', 'evil.com'],
    ['[::1]', '::1'],
    ['10.0.0.1', '10.0.0.1'],
    ['allowed.com\\.evil.com', UNPARSEABLE_HOST],
    ['a b.com', UNPARSEABLE_HOST],
    ['x@y.com', UNPARSEABLE_HOST],
  ])('%s → %s', (raw, expected) => {
    expect(normalizeHost(raw)).toBe(expected);
  });
});

describe('hostsOfUrl', () => {
  it.each([
    ['https://example.com/x', ['example.com']],
    ['https://user:pw@example.com:8443/x', ['example.com']],
    ['https://allowed.com@evil.com', ['evil.com']],
    ['https://allowed.com\\@evil.com', ['allowed.com', 'evil.com']],
    ['https://evil.com#@allowed.com', ['evil.com']],
    ['http://0x7f.1/', ['127.0.0.1']],
    ['http://2130706433/', ['127.0.0.1']],
    ['http://[::1]:80/', ['::1']],
    ['foo://EVIL.com/x', ['evil.com']],
    ['file:///etc/hosts', []],
  ])('%s', (url, expected) => {
    expect([...hostsOfUrl(url)].sort()).toEqual([...expected].sort());
  });
});

describe('hostsOfHostValue and hostsInText', () => {
  it('reads bare hosts, host:port, userinfo and protocol-relative values', () => {
    expect(hostsOfHostValue('db.internal:5432')).toEqual(['db.internal']);
    expect(hostsOfHostValue('ok.com@evil.com')).toEqual(['evil.com']);
    expect(hostsOfHostValue('//evil.com/x')).toEqual(['evil.com']);
    expect(hostsOfHostValue('/var/run/socket')).toEqual([]);
    expect(hostsOfHostValue('')).toEqual([]);
  });

  it('finds URLs and UNC hosts embedded in text', () => {
    expect(hostsInText('curl -s https://a.com/x && wget http://b.com')).toEqual(['a.com', 'b.com']);
    expect(hostsInText('copy \\\\fileserver\\share\\x .')).toEqual(['fileserver']);
    expect(hostsInText('\\\\?\\C:\\long\\path')).toEqual([]);
    expect(hostsInText('no urls here')).toEqual([]);
  });
});

describe('HostAllowList', () => {
  const list = new HostAllowList([
    'github.com',
    '*.corp.example',
    '10.0.0.1',
    '[fd00::1]',
    'B\u00dcCHER.example.',
  ]);

  it.each([
    ['github.com', true],
    ['api.github.com', true],
    ['evilgithub.com', false],
    ['github.com.evil.com', false],
    ['corp.example', false],
    ['a.b.corp.example', true],
    ['10.0.0.1', true],
    ['10.0.0.2', false],
    ['fd00::1', true],
    ['xn--bcher-kva.example', true],
    [UNPARSEABLE_HOST, false],
  ])('%s → %s', (host, allowed) => {
    expect(list.allows(host)).toBe(allowed);
  });

  it('an IP allow entry does not allow "subdomains"', () => {
    expect(new HostAllowList(['1.2.3.4']).allows('5.1.2.3.4')).toBe(false);
  });

  it.each(['https://github.com', 'github.com/api', 'github.com:443', 'user@github.com', '*', '', 'a b'])(
    'refuses the entry %j',
    (entry) => {
      expect(() => new HostAllowList([entry])).toThrow();
    },
  );
});
