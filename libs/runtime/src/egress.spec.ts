import { describe, expect, it } from '@jest/globals';
import { EgressGuard } from './egress.js';

describe('EgressGuard', () => {
  const guard = new EgressGuard();

  it.each([
    ['127.0.0.1', /loopback/],
    ['127.1.2.3', /loopback/],
    ['::1', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['192.168.1.1', /private/],
    ['fd12::1', /unique local/],
    ['fe80::1', /link-local/],
    ['100.64.0.1', /carrier-grade/],
    ['169.254.169.254', /metadata/],
    ['169.254.170.2', /metadata/],
    ['fd00:ec2::254', /metadata/],
    ['::ffff:a9fe:a9fe', /metadata/],
    ['::ffff:169.254.169.254', /metadata/],
    ['::a9fe:a9fe', /metadata/],
    ['64:ff9b::a9fe:a9fe', /metadata/],
    ['64:ff9b::169.254.169.254', /metadata/],
    ['2002:a9fe:a9fe::1', /metadata/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:10.0.0.1', /private/],
    ['64:ff9b::7f00:1', /loopback/],
    ['0x7f.0.0.1', /loopback/],
    ['2130706433', /loopback/],
    ['224.0.0.1', /multicast/],
  ])('refuses %s by default', (address, reason) => {
    expect(guard.check(address, 80)?.reason).toMatch(reason);
  });

  it.each([
    '93.184.216.34',
    '2606:2800:220:1:248:1893:25c8:1946',
    '::ffff:93.184.216.34',
    '64:ff9b::5db8:d822',
  ])('lets the public address %s through', (address) => expect(guard.check(address, 443)).toBeUndefined());

  it('the allow-list opens ranges and host names, never metadata or the control plane', () => {
    const open = new EgressGuard(['127.0.0.1/32', '10.0.0.0/8', '*.svc.cluster.local', '169.254.0.0/16']);
    open.protect({ host: '127.0.0.1', port: 8080 });
    expect(open.check('127.0.0.1', 9000)).toBeUndefined();
    expect(open.check('::ffff:127.0.0.1', 9000)).toBeUndefined();
    expect(open.check('127.0.0.2', 9000)?.reason).toMatch(/loopback/);
    expect(open.check('10.9.8.7', 80)).toBeUndefined();
    expect(open.check('192.168.0.1', 80, 'mcp.tools.svc.cluster.local')).toBeUndefined();
    expect(open.check('192.168.0.1', 80, 'svc.cluster.local.evil.example')?.reason).toMatch(/private/);
    expect(open.check('127.0.0.1', 8080)?.reason).toMatch(/control plane/);
    expect(open.check('::ffff:7f00:1', 8080)?.reason).toMatch(/control plane/);
    expect(open.check('169.254.169.254', 80)?.reason).toMatch(/metadata/);
    expect(open.check('::a9fe:a9fe', 80)?.reason).toMatch(/metadata/);
  });

  it('bad-input: refuses allow-list entries it cannot read', () => {
    expect(() => new EgressGuard(['10.0.0.0/33'])).toThrow(/not a CIDR/);
    expect(() => new EgressGuard(['http://x'])).toThrow(/egress-allow/);
    expect(() => new EgressGuard([''])).toThrow(/empty/);
  });
});
