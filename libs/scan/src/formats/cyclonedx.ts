import { randomUUID } from 'node:crypto';
import type { ScanReport } from '../../../contracts/src/index.js';

/**
 * Inventory and vulnerabilities as CycloneDX 1.6 JSON: packages are `components`, MCP servers are `services`
 * (remote ones with their endpoint URL), each server `dependsOn` the packages it runs, and advisories are
 * `vulnerabilities` affecting component refs. Credential names are listed as service properties, never values.
 */
export function toCycloneDx(report: ScanReport, toolVersion: string): object {
  const serviceRef = (ref: string) => `service:${ref}`;
  const services = report.agents.flatMap((agent) =>
    agent.servers.map((server) => ({
      'bom-ref': serviceRef(`${agent.name}/${server.name}`),
      name: server.name,
      group: agent.name,
      ...(server.url ? { endpoints: [server.url] } : {}),
      authenticated: server.auth_mode !== 'none',
      properties: [
        { name: 'agent-bom:transport', value: server.transport },
        { name: 'agent-bom:client', value: agent.client },
        ...[...(server.credential_env_names ?? []), ...(server.credential_header_names ?? [])].map((c) => ({
          name: 'agent-bom:credential-name',
          value: c,
        })),
      ],
    })),
  );
  const byServer = new Map<string, string[]>();
  for (const pkg of report.packages)
    for (const s of pkg.servers) byServer.set(s, [...(byServer.get(s) ?? []), pkg.purl]);
  const bySubject = new Map<string, typeof report.findings>();
  for (const f of report.findings.filter((f) => f.kind === 'vulnerability')) {
    bySubject.set(f.advisory_id!, [...(bySubject.get(f.advisory_id!) ?? []), f]);
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: report.generated_at,
      tools: { components: [{ type: 'application', name: 'agent-bom', version: toolVersion }] },
      properties: [
        { name: 'agent-bom:scan-id', value: report.scan_id },
        { name: 'agent-bom:source-id', value: report.source_id },
      ],
    },
    components: report.packages.map((pkg) => ({
      type: pkg.ecosystem === 'docker' ? 'container' : 'library',
      'bom-ref': pkg.purl,
      name: pkg.name,
      ...(pkg.version ? { version: pkg.version } : {}),
      purl: pkg.purl,
      properties: [{ name: 'agent-bom:version-confidence', value: pkg.confidence }],
    })),
    services,
    dependencies: [...byServer].map(([server, purls]) => ({
      ref: serviceRef(server),
      dependsOn: [...new Set(purls)],
    })),
    vulnerabilities: [...bySubject].map(([id, findings]) => {
      const f = findings[0];
      return {
        'bom-ref': `vuln:${id}`,
        id,
        source: { name: 'OSV', url: `https://osv.dev/vulnerability/${encodeURIComponent(id)}` },
        ...(f.aliases?.length
          ? {
              references: f.aliases.map((alias) => ({
                id: alias,
                source: { name: alias.startsWith('CVE-') ? 'NVD' : 'OSV' },
              })),
            }
          : {}),
        ratings: [
          {
            severity: f.severity === 'none' ? 'none' : f.severity,
            ...(f.cvss_score !== undefined
              ? { score: f.cvss_score, method: cvssMethod(f.cvss_vector), vector: f.cvss_vector }
              : {}),
          },
        ],
        description: f.title,
        ...(f.fixed_version ? { recommendation: `Upgrade to ${f.fixed_version} or later` } : {}),
        affects: findings.map((x) => ({ ref: x.subject })),
      };
    }),
  };
}

function cvssMethod(vector: string | undefined): string {
  if (vector?.startsWith('CVSS:4.0')) return 'CVSSv4';
  if (vector?.startsWith('CVSS:3.1')) return 'CVSSv31';
  if (vector?.startsWith('CVSS:3.0')) return 'CVSSv3';
  return 'CVSSv2';
}
