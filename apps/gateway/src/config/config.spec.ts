import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseBind, parseGatewayConfig } from './config.js';
import { parseRate } from './rate.js';

describe('gateway configuration', () => {
  it('parses rates', () => {
    expect(parseRate('600/min')).toEqual({ limit: 600, windowMs: 60_000, text: '600/min' });
    expect(parseRate('10/s')).toMatchObject({ limit: 10, windowMs: 1000 });
    expect(parseRate('100/10s')).toMatchObject({ limit: 100, windowMs: 10_000, text: '100/10s' });
    expect(parseRate('50')).toMatchObject({ limit: 50, windowMs: 60_000 });
    for (const bad of ['0/min', 'ten/min', '5/fortnight', '5/48h', ''])
      expect(() => parseRate(bad)).toThrow();
  });

  it('takes the public URL (the OIDC audience is it plus /mcp) from the env or a concrete bind, and refuses a bad one', () => {
    const url = (bind: string, value?: string) =>
      parseGatewayConfig(
        { bind, upstreams: 'u.yaml', bearerToken: 'b'.repeat(16) },
        value === undefined ? {} : { AGENT_BOM_GATEWAY_PUBLIC_URL: value },
      ).publicUrl;
    expect(url('127.0.0.1:8090')).toBe('http://127.0.0.1:8090');
    expect(url('[::1]:8090')).toBe('http://[::1]:8090');
    expect(url('127.0.0.1:0')).toBeUndefined(); // the port is not known yet
    expect(url('0.0.0.0:8090')).toBeUndefined(); // nor the address clients use
    expect(url('0.0.0.0:8090', 'https://gw.example.com/')).toBe('https://gw.example.com');
    expect(url('127.0.0.1:8090', 'http://localhost:8090')).toBe('http://localhost:8090');
    for (const bad of [
      'gw.example.com',
      'http://gw.example.com',
      'https://gw.example.com/prefix',
      'https://gw.example.com/?x=1',
      'https://user:pw@gw.example.com',
    ]) {
      expect(() => url('0.0.0.0:8090', bad)).toThrow(/AGENT_BOM_GATEWAY_PUBLIC_URL/);
    }
  });

  it('parses --bind like the seed shows, and refuses what it cannot listen on', () => {
    expect(parseBind('0.0.0.0:8090')).toEqual({ host: '0.0.0.0', port: 8090 });
    expect(parseBind('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseBind(':9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    for (const bad of ['8090', 'host:99999', '[nope]:1']) expect(() => parseBind(bad)).toThrow(ConfigError);
  });

  it('refuses to start without upstreams, a token without a URL, or a public bind without auth', () => {
    expect(() => parseGatewayConfig({}, {})).toThrow(/nothing to front/);
    expect(() => parseGatewayConfig({ controlPlaneToken: ['abom_x'], upstreams: 'u.yaml' }, {})).toThrow(
      /needs --from-control-plane/,
    );
    expect(() => parseGatewayConfig({ fromControlPlane: 'https://cp' }, {})).toThrow(
      /needs --control-plane-token/,
    );
    expect(() => parseGatewayConfig({ bind: '0.0.0.0:8090', upstreams: 'u.yaml' }, {})).toThrow(
      /without incoming authentication/,
    );
    expect(() =>
      parseGatewayConfig(
        { upstreams: 'u.yaml', rateLimitPerTenant: '5/min', rateLimitBackend: 'postgres' },
        {},
      ),
    ).toThrow(/DATABASE_URL/);
    expect(() => parseGatewayConfig({ upstreams: 'u.yaml', bearerToken: 'short' }, {})).toThrow(
      /at least 16/,
    );
  });

  it('reads the seed’s flags and the environment', () => {
    const config = parseGatewayConfig(
      { bind: '0.0.0.0:8090', fromControlPlane: 'https://cp.example.com/', bearerToken: 'b'.repeat(20) },
      {
        AGENT_BOM_CONTROL_PLANE_TOKEN: 'abom_one,abom_two',
        AGENT_BOM_GATEWAY_RATE_LIMIT_PER_TENANT: '600/min',
      },
    );
    expect(config.controlPlane).toEqual({
      display: 'https://cp.example.com',
      url: 'https://cp.example.com/',
      tokens: ['abom_one', 'abom_two'],
    });
    expect(config.rateLimit).toMatchObject({ backend: 'memory', perTenant: { limit: 600 } });
    expect(config.policyBundle).toBe(true);
    expect(config.sessionSecret).toHaveLength(32);
  });

  it("bad-input: detector flags take the proxy's values, from flags or env, and refuse anything else", () => {
    const base = { upstreams: 'u.yaml' };
    expect(parseGatewayConfig(base, {})).toMatchObject({
      argumentDetectors: 'block',
      detectCredentials: false,
      credentialAction: 'redact',
    });
    expect(
      parseGatewayConfig(base, {
        AGENT_BOM_GATEWAY_ARGUMENT_DETECTORS: 'warn',
        AGENT_BOM_GATEWAY_DETECT_CREDENTIALS: 'true',
        AGENT_BOM_GATEWAY_CREDENTIAL_ACTION: 'block',
      }),
    ).toMatchObject({ argumentDetectors: 'warn', detectCredentials: true, credentialAction: 'block' });
    expect(
      parseGatewayConfig(
        { ...base, argumentDetectors: 'off', detectCredentials: true },
        { AGENT_BOM_GATEWAY_ARGUMENT_DETECTORS: 'warn' },
      ),
    ).toMatchObject({ argumentDetectors: 'off', detectCredentials: true });
    expect(() => parseGatewayConfig({ ...base, argumentDetectors: 'loud' }, {})).toThrow(
      /--argument-detectors must be block, warn, off/,
    );
    expect(() => parseGatewayConfig({ ...base, credentialAction: 'shred' }, {})).toThrow(
      /--credential-action must be redact, block/,
    );
    expect(() => parseGatewayConfig(base, { AGENT_BOM_GATEWAY_DETECT_CREDENTIALS: 'yes please' })).toThrow(
      /AGENT_BOM_GATEWAY_DETECT_CREDENTIALS must be true or false/,
    );
  });

  it('takes the session steps like the proxy: --block-undeclared, --block-drift, --replay-window (default 5m)', () => {
    const base = { upstreams: 'u.yaml' };
    expect(parseGatewayConfig(base, {})).toMatchObject({
      blockUndeclared: false,
      blockDrift: false,
      replayWindowMs: 300_000,
    });
    expect(
      parseGatewayConfig({ ...base, blockUndeclared: true, blockDrift: true, replayWindow: '30s' }, {}),
    ).toMatchObject({ blockUndeclared: true, blockDrift: true, replayWindowMs: 30_000 });
    expect(
      parseGatewayConfig(base, {
        AGENT_BOM_GATEWAY_BLOCK_UNDECLARED: 'true',
        AGENT_BOM_GATEWAY_BLOCK_DRIFT: '1',
        AGENT_BOM_GATEWAY_REPLAY_WINDOW: '0',
      }),
    ).toMatchObject({ blockUndeclared: true, blockDrift: true, replayWindowMs: 0 });
    expect(() => parseGatewayConfig({ ...base, replayWindow: 'soon' }, {})).toThrow(
      /--replay-window must be a duration such as 30s, 5m or 1h \(0 disables\)/,
    );
    expect(() => parseGatewayConfig(base, { AGENT_BOM_GATEWAY_BLOCK_DRIFT: 'maybe' })).toThrow(
      /AGENT_BOM_GATEWAY_BLOCK_DRIFT must be true or false/,
    );
  });
});
