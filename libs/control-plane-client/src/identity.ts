import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import type { FleetEndpoint } from '../../contracts/src/index.js';

export interface MachineIdSources {
  platform: NodeJS.Platform;
  readFile(file: string): Promise<string>;
  run(command: string, args: string[]): Promise<string>;
  hostname(): string;
}

const defaultSources: MachineIdSources = {
  platform: process.platform,
  readFile: (file) => fs.readFile(file, 'utf8'),
  run: (command, args) =>
    new Promise((resolve, reject) =>
      execFile(
        command,
        args,
        { timeout: 2000, windowsHide: true, maxBuffer: 1024 * 1024 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    ),
  hostname: () => os.hostname(),
};

/**
 * This machine's stable fleet identity: `ep-` + 32 hex characters of an HMAC of the OS machine id
 * (`/etc/machine-id` on Linux, `IOPlatformUUID` on macOS, `MachineGuid` on Windows), or of the hostname when
 * none can be read. The raw machine id never leaves the machine (the HMAC is keyed by it, as systemd advises
 * for application-specific ids).
 */
export async function machineSourceId(
  sources: MachineIdSources = defaultSources,
): Promise<{ sourceId: string; basis: 'machine-id' | 'hostname' }> {
  const raw = await readMachineId(sources).catch(() => undefined);
  const basis = raw ? 'machine-id' : 'hostname';
  const key = raw ?? `hostname:${sources.hostname().toLowerCase()}`;
  const digest = createHmac('sha256', key).update('agent-bom fleet source id v1').digest('hex');
  return { sourceId: `ep-${digest.slice(0, 32)}`, basis };
}

async function readMachineId(sources: MachineIdSources): Promise<string | undefined> {
  if (sources.platform === 'linux' || sources.platform === 'freebsd') {
    for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id', '/etc/hostid']) {
      const id = (await sources.readFile(file).catch(() => '')).trim();
      if (/^[0-9a-f-]{8,}$/i.test(id)) return id;
    }
    return undefined;
  }
  if (sources.platform === 'darwin') {
    const out = await sources.run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']);
    return /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out)?.[1];
  }
  if (sources.platform === 'win32') {
    const out = await sources.run('reg', [
      'query',
      'HKLM\\SOFTWARE\\Microsoft\\Cryptography',
      '/v',
      'MachineGuid',
    ]);
    return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(out)?.[1];
  }
  return undefined;
}

/** The `endpoint` block of a sync payload for this machine. */
export function describeEndpoint(options: {
  version: string;
  /** Overrides the machine's hostname, e.g. for a collector reporting on behalf of another machine. */
  hostname?: string;
  owner?: string;
  environment?: string;
  tags?: string[];
}): FleetEndpoint {
  const platform = process.platform;
  return {
    hostname: options.hostname ?? os.hostname(),
    os: platform === 'darwin' || platform === 'linux' || platform === 'win32' ? platform : 'other',
    os_release: os.release(),
    agent_bom_version: options.version,
    ...(options.owner ? { owner: options.owner } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
    ...(options.tags?.length ? { tags: options.tags } : {}),
  };
}
