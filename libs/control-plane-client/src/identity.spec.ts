import { describe, expect, it } from '@jest/globals';
import { SOURCE_ID_PATTERN } from '../../contracts/src/index.js';
import { describeEndpoint, machineSourceId, type MachineIdSources } from './identity.js';

const RAW = '4c4c4544004b3510804cb7c04f563532';
const sources = (overrides: Partial<MachineIdSources>): MachineIdSources => ({
  platform: 'linux',
  readFile: async () => {
    throw new Error('ENOENT');
  },
  run: async () => {
    throw new Error('ENOENT');
  },
  hostname: () => 'laptop-42',
  ...overrides,
});

describe('machineSourceId', () => {
  it('Linux: an HMAC of /etc/machine-id, stable, never the raw id', async () => {
    const linux = sources({ readFile: async (file) => (file === '/etc/machine-id' ? `${RAW}\n` : '') });
    const first = await machineSourceId(linux);
    expect(first.basis).toBe('machine-id');
    expect(first.sourceId).toMatch(/^ep-[0-9a-f]{32}$/);
    expect(first.sourceId).toMatch(SOURCE_ID_PATTERN);
    expect(first.sourceId).not.toContain(RAW.slice(0, 12));
    expect((await machineSourceId(linux)).sourceId).toBe(first.sourceId);
  });

  it('macOS: IOPlatformUUID from ioreg', async () => {
    const mac = sources({
      platform: 'darwin',
      run: async (command) => (command === 'ioreg' ? `  "IOPlatformUUID" = "${RAW}"\n` : ''),
    });
    expect(await machineSourceId(mac)).toMatchObject({ basis: 'machine-id' });
  });

  it('Windows: MachineGuid from the registry', async () => {
    const win = sources({
      platform: 'win32',
      run: async () => `\r\n    MachineGuid    REG_SZ    ${RAW}\r\n`,
    });
    expect(await machineSourceId(win)).toMatchObject({ basis: 'machine-id' });
  });

  it('different machines, different ids; no machine id → hostname', async () => {
    const a = await machineSourceId(sources({ readFile: async () => RAW }));
    const b = await machineSourceId(sources({ readFile: async () => RAW.replace('4', '5') }));
    expect(a.sourceId).not.toBe(b.sourceId);
    const fallback = await machineSourceId(sources({}));
    expect(fallback.basis).toBe('hostname');
    expect(fallback.sourceId).toMatch(/^ep-[0-9a-f]{32}$/);
    expect(fallback.sourceId).not.toContain('laptop');
  });
});

describe('describeEndpoint', () => {
  it('reports this machine and the optional labels', () => {
    const endpoint = describeEndpoint({ version: '1.2.3', owner: 'sec-team', tags: ['laptop'] });
    expect(endpoint).toMatchObject({ agent_bom_version: '1.2.3', owner: 'sec-team', tags: ['laptop'] });
    expect(endpoint.hostname).toBeTruthy();
    expect(['darwin', 'linux', 'win32', 'other']).toContain(endpoint.os);
    expect(endpoint.environment).toBeUndefined();
  });
});
