import { pathToFileURL } from 'node:url';
import type { ScanReport, ScanSeverity } from '../../../contracts/src/index.js';

const LEVEL: Record<ScanSeverity, 'error' | 'warning' | 'note' | 'none'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  none: 'none',
};

/** Findings as SARIF 2.1.0: one rule per advisory or finding kind, one result per finding. */
export function toSarif(report: ScanReport, toolVersion: string): object {
  const rules = new Map<string, object>();
  for (const f of report.findings) {
    const ruleId = f.advisory_id ?? f.kind;
    if (!rules.has(ruleId)) {
      rules.set(ruleId, {
        id: ruleId,
        shortDescription: { text: f.kind === 'vulnerability' ? f.title : f.kind.replace('_', ' ') },
        ...(f.advisory_id
          ? { helpUri: `https://osv.dev/vulnerability/${encodeURIComponent(f.advisory_id)}` }
          : {}),
        properties: {
          'security-severity': String(f.cvss_score ?? severityScore(f.severity)),
          tags: ['security', f.kind],
        },
      });
    }
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'agent-bom',
            version: toolVersion,
            informationUri: 'https://github.com/msaad00/agent-bom',
            rules: [...rules.values()],
          },
        },
        automationDetails: { id: `agent-bom/${report.scan_id}` },
        results: report.findings.map((f) => ({
          ruleId: f.advisory_id ?? f.kind,
          level: LEVEL[f.severity],
          message: { text: f.title + (f.fixed_version ? `; fixed in ${f.fixed_version}` : '') },
          partialFingerprints: { agentBomFindingId: f.id },
          locations: f.locations.slice(0, 10).map((location) => ({
            physicalLocation: { artifactLocation: { uri: pathToFileURL(location).href } },
          })),
          properties: {
            severity: f.severity,
            subject: f.subject,
            servers: f.servers,
            credentials: f.credentials,
          },
        })),
      },
    ],
  };
}

function severityScore(severity: ScanSeverity): number {
  return { critical: 9.5, high: 7.5, medium: 5, low: 2, none: 0 }[severity];
}
