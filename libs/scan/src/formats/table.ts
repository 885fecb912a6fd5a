import type { ScanReport } from '../../../contracts/src/index.js';

/** The human table: summary, then findings by severity (at most `limit`). */
export function renderScanTable(report: ScanReport, limit = 50): string {
  const s = report.summary;
  const lines = [
    `${s.agents} agent(s), ${s.servers} server(s), ${s.packages} package(s), ${s.vulnerable_packages} vulnerable; advisories: ${report.advisory_source.description}${report.advisory_source.advisories !== undefined ? ` (${report.advisory_source.advisories})` : ''}`,
    `findings: ${(['critical', 'high', 'medium', 'low'] as const).map((k) => `${s.findings[k]} ${k}`).join(', ')}`,
  ];
  if (report.findings.length) {
    const rows = report.findings
      .slice(0, limit)
      .map((f) => [f.severity.toUpperCase(), f.kind, f.advisory_id ?? '-', f.fixed_version ?? '-', f.title]);
    const header = ['SEVERITY', 'KIND', 'ADVISORY', 'FIXED IN', 'TITLE'];
    const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => r[i].length))));
    const fmt = (r: string[]) =>
      r.map((c, i) => (i === r.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]))).join('  ');
    lines.push('', fmt(header), ...rows.map(fmt));
    if (report.findings.length > limit)
      lines.push(`… ${report.findings.length - limit} more (use --format json)`);
  }
  return lines.join('\n') + '\n';
}
