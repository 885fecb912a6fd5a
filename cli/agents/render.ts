import type { DiscoveryWarning } from '../../libs/discovery/src/index.js';
import type { FleetAgent, FleetServer, FleetSyncPayload } from '../../libs/contracts/src/index.js';

const MAX_TARGET = 56;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function target(server: FleetServer): string {
  if (server.url) return server.url;
  return [server.command ?? '', ...(server.args ?? [])].join(' ').trim();
}

function tools(server: FleetServer): string {
  const introspection = server.introspection;
  if (introspection?.status === 'ok') return `${introspection.tools?.length ?? 0} live`;
  if (introspection) return introspection.status;
  return server.declared_tools?.length ? `${server.declared_tools.length} declared` : '-';
}

/** The human report: one row per server, then introspection failures. */
export function renderTable(payload: FleetSyncPayload, files: number): string {
  const header = ['AGENT', 'SERVER', 'TRANSPORT', 'COMMAND / URL', 'AUTH', 'CREDENTIALS', 'TOOLS'];
  const rows: string[][] = [];
  const failures: string[] = [];
  const skipped = new Map<string, number>();
  const serverCount = payload.agents.reduce((n, a) => n + a.servers.length, 0);
  for (const agent of payload.agents) {
    if (agent.servers.length === 0) rows.push([agent.name, '-', '', '', '', '', '']);
    for (const server of agent.servers) {
      const credentials = [...(server.credential_env_names ?? []), ...(server.credential_header_names ?? [])];
      rows.push([
        agent.name,
        server.name,
        server.transport,
        clip(target(server), MAX_TARGET),
        server.auth_mode,
        credentials.length ? clip(credentials.join(','), 40) : '-',
        tools(server),
      ]);
      if (server.introspection?.status === 'failed') {
        failures.push(`  ${agentLabel(agent)}/${server.name}: ${server.introspection.error ?? 'failed'}`);
      }
      if (server.introspection?.status === 'skipped') {
        const reason = server.introspection.error ?? 'skipped';
        skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [
    `${payload.agents.length} agent(s), ${serverCount} server(s) from ${files} config file(s); source id ${payload.source_id}`,
  ];
  if (rows.length) out.push('', line(header), ...rows.map(line));
  if (failures.length) out.push('', 'introspection failed:', ...failures);
  if (skipped.size) {
    out.push(
      '',
      'introspection skipped:',
      ...[...skipped].map(([reason, count]) => `  ${count} server(s): ${reason}`),
    );
  }
  return out.join('\n') + '\n';
}

function agentLabel(agent: FleetAgent): string {
  return clip(agent.name, 60);
}

export function renderWarnings(warnings: readonly DiscoveryWarning[]): string {
  return warnings.map((w) => `warning: ${w.path}: ${w.message}\n`).join('');
}
