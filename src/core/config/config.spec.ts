import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8422,
      databaseUrl: undefined,
      authCacheTtlSeconds: 5,
      docsEnabled: true,
      migrateOnBoot: true,
      signingKeyFile: undefined,
      auditRetentionDays: undefined,
      auditCheckpointEntries: 1000,
      auditCheckpointSeconds: 30,
      policyBundleTtlSeconds: 86400,
      policyBundleCacheSeconds: 30,
    });
    expect(config.dataDir.endsWith('.data')).toBe(true);
  });

  it.each([
    ['PORT', 'eighty', 'whole number'],
    ['PORT', '70000', 'PORT'],
    ['DATABASE_URL', 'mysql://x', 'postgres://'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL'],
    ['AGENT_BOM_AUTH_CACHE_TTL_SECONDS', '-1', 'AGENT_BOM_AUTH_CACHE_TTL_SECONDS'],
    ['AGENT_BOM_DISABLE_DOCS', 'maybe', 'AGENT_BOM_DISABLE_DOCS'],
    ['AGENT_BOM_AUDIT_RETENTION_DAYS', '0', 'AGENT_BOM_AUDIT_RETENTION_DAYS'],
    ['AGENT_BOM_AUDIT_RETENTION_DAYS', '90d', 'whole number'],
    ['AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES', '0', 'AGENT_BOM_AUDIT_CHECKPOINT_ENTRIES'],
    ['AGENT_BOM_AUDIT_CHECKPOINT_SECONDS', '100000', 'AGENT_BOM_AUDIT_CHECKPOINT_SECONDS'],
    ['AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS', '59', 'AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS'],
    ['AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS', '3601', 'AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS'],
  ])('refuses %s=%s naming the variable', (name, value, mention) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain(mention);
  });

  it('keeps the bundle cache to at most half the bundle lifetime', () => {
    expect(() =>
      loadConfig({ AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS: '60', AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '31' }),
    ).toThrow(/AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS must be at most half/);
    expect(
      loadConfig({ AGENT_BOM_POLICY_BUNDLE_TTL_SECONDS: '60', AGENT_BOM_POLICY_BUNDLE_CACHE_SECONDS: '30' }),
    ).toMatchObject({ policyBundleTtlSeconds: 60, policyBundleCacheSeconds: 30 });
  });

  it('resolves key file paths against the working directory', () => {
    const config = loadConfig({
      AGENT_BOM_SIGNING_KEY_FILE: 'keys/signing.pem',
      AGENT_BOM_AUDIT_RETENTION_DAYS: '90',
    });
    expect(config.signingKeyFile?.endsWith('/keys/signing.pem')).toBe(true);
    expect(config.signingKeyFile?.startsWith('/')).toBe(true);
    expect(config.auditRetentionDays).toBe(90);
  });

  it('treats empty variables as unset and lets CLI flags win over the environment', () => {
    const config = loadConfig({ PORT: '', HOST: '0.0.0.0' }, { port: 9000 });
    expect(config.port).toBe(9000);
    expect(config.host).toBe('0.0.0.0');
  });
});
