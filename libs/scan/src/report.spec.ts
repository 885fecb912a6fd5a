import { describe, expect, it } from '@jest/globals';
import { MemoryAdvisorySource } from '../../advisories/src/index.js';
import type { FleetAgent } from '../../contracts/src/index.js';
import { buildScanReport, findingId } from './report.js';

const agent: FleetAgent = {
  name: 'cursor',
  client: 'cursor',
  servers: [
    {
      name: 'shell',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', 'shell-mcp@1.0.0'],
      declared_tools: ['run_command', 'read_file'],
      auth_mode: 'none',
      config_path: '/home/u/.cursor/mcp.json',
      introspection: { status: 'ok', tools: ['run_command', 'read_file', 'delete_everything'] },
    },
    {
      name: 'notes',
      transport: 'stdio',
      command: 'uvx',
      args: ['notes==1.0'],
      declared_tools: ['list_notes'],
      auth_mode: 'none',
      config_path: '/c.json',
    },
  ],
};

describe('buildScanReport: tool findings', () => {
  it('classifies dangerous tool surfaces with the policy library and reports drift from introspection', async () => {
    const report = await buildScanReport({
      sourceId: 's',
      agents: [agent],
      projects: [],
      advisories: new MemoryAdvisorySource('empty'),
    });
    const byKind = (kind: string) => report.findings.filter((f) => f.kind === kind);
    expect(byKind('dangerous_tool')).toEqual([
      expect.objectContaining({
        subject: 'cursor/shell',
        severity: 'high',
        tools: ['delete_everything', 'read_file', 'run_command'],
        id: findingId('dangerous_tool', 'cursor/shell', 'destructive,execute,filesystem'),
      }),
    ]);
    expect(byKind('tool_drift')).toEqual([
      expect.objectContaining({ subject: 'cursor/shell', severity: 'medium', tools: ['+delete_everything'] }),
    ]);
    expect(report.findings.filter((f) => f.subject === 'cursor/notes')).toEqual([]);
  });

  it('gives the same finding ids on every scan', async () => {
    const a = await buildScanReport({
      sourceId: 's',
      agents: [agent],
      projects: [],
      advisories: new MemoryAdvisorySource('x'),
    });
    const b = await buildScanReport({
      sourceId: 's',
      agents: [agent],
      projects: [],
      advisories: new MemoryAdvisorySource('x'),
    });
    expect(a.findings.map((f) => f.id)).toEqual(b.findings.map((f) => f.id));
    expect(a.scan_id).not.toBe(b.scan_id);
  });
});
