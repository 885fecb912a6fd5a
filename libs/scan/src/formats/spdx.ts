import { randomUUID } from 'node:crypto';
import type { ScanReport } from '../../../contracts/src/index.js';

/** Inventory as SPDX 2.3 JSON: one package per purl, described by the document. */
export function toSpdx(report: ScanReport, toolVersion: string): object {
  const id = (i: number) => `SPDXRef-Package-${i + 1}`;
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `agent-bom-scan-${report.scan_id}`,
    documentNamespace: `https://agent-bom.invalid/spdx/${report.scan_id}-${randomUUID()}`,
    creationInfo: {
      created: report.generated_at.replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: agent-bom-${toolVersion}`],
    },
    packages: report.packages.map((pkg, i) => ({
      SPDXID: id(i),
      name: pkg.name,
      ...(pkg.version ? { versionInfo: pkg.version } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      externalRefs: [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: pkg.purl },
      ],
      ...(pkg.servers.length ? { comment: `run by MCP server(s): ${pkg.servers.join(', ')}` } : {}),
    })),
    relationships: report.packages.map((_, i) => ({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: id(i),
    })),
  };
}
