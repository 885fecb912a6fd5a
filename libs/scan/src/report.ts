import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type {
  FleetAgent,
  FleetEndpoint,
  ScanFinding,
  ScanPackage,
  ScanReport,
  ScanSeverity,
} from '../../contracts/src/index.js';
import { matchPackages, severityRank, type AdvisorySource } from '../../advisories/src/index.js';
import { extractFromCommand } from './command.js';
import { projectOfLocalPath, scanProjectDirectory } from './project.js';
import { dangerousTools, toolDrift } from './tool-findings.js';
import type { ExtractedPackage } from './types.js';

export interface BuildReportInput {
  sourceId: string;
  endpoint?: FleetEndpoint;
  agents: FleetAgent[];
  /** Project directories to read lockfiles from (`--project`). */
  projects: string[];
  advisories: AdvisorySource;
  advisoryCount?: number;
  warnings?: Array<{ path: string; message: string }>;
  /**
   * Read the project directory of a server launched from a local path (default true). The control plane scans
   * inventory synced from endpoints, whose paths are the endpoints' and never to be read on the server: false.
   */
  readLocalProjects?: boolean;
  /** Called after each step, for a progress bar. */
  onStep?: (step: string, done: number, total: number) => void;
}

/** A finding id that is the same for the same kind, subject and rule on every scan. */
export function findingId(kind: string, subject: string, rule: string): string {
  return (
    'f_' + createHash('sha256').update(`${kind}\u0000${subject}\u0000${rule}`).digest('hex').slice(0, 24)
  );
}

interface Collected {
  pkg: ExtractedPackage;
  servers: Set<string>;
  credentials: Set<string>;
  locations: Set<string>;
}

/**
 * Scans an inventory: packages from every server's launch command and its local project, plus the given
 * project directories; advisories matched exactly for pinned npm/PyPI versions; findings for vulnerable
 * packages, floating versions, credential-bearing servers, dangerous tool surfaces and tool drift.
 */
export async function buildScanReport(input: BuildReportInput): Promise<ScanReport> {
  const warnings = [...(input.warnings ?? [])];
  const collected = new Map<string, Collected>();
  const add = (
    pkg: ExtractedPackage,
    server: string | undefined,
    credentials: string[],
    location: string,
  ) => {
    const key = `${pkg.ecosystem}\u0000${pkg.name}\u0000${pkg.version ?? ''}\u0000${pkg.confidence}`;
    let entry = collected.get(key);
    if (!entry)
      collected.set(key, (entry = { pkg, servers: new Set(), credentials: new Set(), locations: new Set() }));
    if (server) entry.servers.add(server);
    for (const c of credentials) entry.credentials.add(c);
    entry.locations.add(location);
  };
  const readProjects = new Map<string, Awaited<ReturnType<typeof scanProjectDirectory>>>();
  const readProject = async (dir: string) => {
    let scan = readProjects.get(dir);
    if (!scan) {
      scan = await scanProjectDirectory(dir);
      readProjects.set(dir, scan);
      for (const error of scan.errors)
        warnings.push({ path: error.path, message: `${error.code}: ${error.message}` });
    }
    return scan;
  };

  const servers = input.agents.flatMap((agent) => agent.servers.map((server) => ({ agent, server })));
  const findings: ScanFinding[] = [];
  let done = 0;
  for (const { agent, server } of servers) {
    const ref = `${agent.name}/${server.name}`;
    const credentials = [...(server.credential_env_names ?? []), ...(server.credential_header_names ?? [])];
    if (credentials.length) {
      findings.push({
        id: findingId('credential_exposure', ref, credentials.slice().sort().join(',')),
        kind: 'credential_exposure',
        severity: 'medium',
        title: `${server.name} is configured with credentials (${credentials.join(', ')})`,
        subject: ref,
        servers: [ref],
        credentials,
        locations: [server.config_path],
      });
    }
    for (const tools of [
      dangerousTools(ref, server, credentials, findingId),
      toolDrift(ref, server, credentials, findingId),
    ]) {
      if (tools) findings.push(tools);
    }
    if (server.transport === 'stdio' && server.command) {
      const cwd = server.project_path ?? path.dirname(server.config_path);
      const extraction = extractFromCommand(server.command, server.args ?? [], cwd);
      for (const pkg of extraction.packages) add(pkg, ref, credentials, server.config_path);
      for (const local of input.readLocalProjects === false ? [] : extraction.localPaths) {
        const project = await projectOfLocalPath(local);
        if (!project) continue;
        for (const pkg of (await readProject(project)).packages)
          add(pkg, ref, credentials, pkg.origin.path ?? project);
      }
    }
    input.onStep?.('extracting', ++done, servers.length + input.projects.length);
  }
  for (const project of input.projects) {
    for (const pkg of (await readProject(project)).packages)
      add(pkg, undefined, [], pkg.origin.path ?? project);
    input.onStep?.('extracting', ++done, servers.length + input.projects.length);
  }

  const entries = [...collected.values()];
  const queryable = entries.filter(
    (e) =>
      e.pkg.confidence === 'pinned' &&
      e.pkg.version &&
      (e.pkg.ecosystem === 'npm' || e.pkg.ecosystem === 'pypi'),
  );
  const vulnerable = new Set<string>();
  findings.push(
    ...(await vulnerabilityFindings(
      input.advisories,
      queryable.map((e) => ({
        purl: e.pkg.purl,
        ecosystem: e.pkg.ecosystem as 'npm' | 'pypi',
        name: e.pkg.name,
        version: e.pkg.version!,
        servers: [...e.servers],
        credentials: [...e.credentials],
        locations: [...e.locations],
      })),
      vulnerable,
    )),
  );
  input.onStep?.('matching', 1, 1);
  for (const entry of entries) {
    if (entry.pkg.confidence === 'pinned' || entry.pkg.origin.kind !== 'command') continue;
    findings.push({
      id: findingId(
        'floating_version',
        `${entry.pkg.ecosystem}:${entry.pkg.name}`,
        [...entry.servers].sort().join(','),
      ),
      kind: 'floating_version',
      severity: entry.pkg.confidence === 'floating' ? 'medium' : 'low',
      title: `${entry.pkg.name} is launched ${entry.pkg.confidence === 'floating' ? 'without a version (whatever the registry serves today)' : `with a range (${entry.pkg.version})`}`,
      subject: entry.pkg.purl,
      servers: [...entry.servers].sort(),
      credentials: [...entry.credentials].sort(),
      locations: [...entry.locations].sort(),
    });
  }
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));

  const packages: ScanPackage[] = entries.map((e) => ({
    purl: e.pkg.purl,
    ecosystem: e.pkg.ecosystem,
    name: e.pkg.name,
    ...(e.pkg.version ? { version: e.pkg.version } : {}),
    confidence: e.pkg.confidence,
    servers: [...e.servers].sort(),
    origins: [...e.locations].sort(),
  }));
  const bySeverity = { none: 0, low: 0, medium: 0, high: 0, critical: 0 } as Record<ScanSeverity, number>;
  for (const f of findings) bySeverity[f.severity]++;
  return {
    schema_version: '1',
    document_type: 'agent-bom.scan',
    scan_id: randomUUID(),
    generated_at: new Date().toISOString(),
    source_id: input.sourceId,
    ...(input.endpoint ? { endpoint: input.endpoint } : {}),
    advisory_source: {
      description: input.advisories.description,
      ...(input.advisoryCount !== undefined ? { advisories: input.advisoryCount } : {}),
    },
    agents: input.agents,
    packages,
    findings,
    summary: {
      agents: input.agents.length,
      servers: servers.length,
      packages: packages.length,
      vulnerable_packages: vulnerable.size,
      findings: bySeverity,
    },
    warnings,
  };
}

interface PinnedPackage {
  purl: string;
  ecosystem: 'npm' | 'pypi';
  name: string;
  version: string;
  servers: string[];
  credentials: string[];
  locations: string[];
}

/** One `vulnerability` finding per (pinned package, matching advisory); adds each vulnerable purl to `vulnerable`. */
async function vulnerabilityFindings(
  advisories: AdvisorySource,
  packages: PinnedPackage[],
  vulnerable: Set<string>,
): Promise<ScanFinding[]> {
  const matches = await matchPackages(advisories, packages);
  const findings: ScanFinding[] = [];
  matches.forEach((list, i) => {
    const p = packages[i];
    for (const match of list) {
      vulnerable.add(p.purl);
      const a = match.advisory;
      findings.push({
        id: findingId('vulnerability', p.purl, a.id),
        kind: 'vulnerability',
        severity: a.severity,
        title: `${p.name}@${p.version}: ${a.summary ?? a.id}`,
        subject: p.purl,
        advisory_id: a.id,
        aliases: a.aliases,
        ...(a.cvss_score !== undefined ? { cvss_score: a.cvss_score, cvss_vector: a.cvss_vector } : {}),
        ...(match.fixed_version ? { fixed_version: match.fixed_version } : {}),
        servers: [...p.servers].sort(),
        credentials: [...p.credentials].sort(),
        locations: [...p.locations].sort(),
      });
    }
  });
  return findings;
}

/**
 * A stored scan report re-evaluated against today's advisories: its pinned npm/PyPI packages are matched again
 * (advisories imported since the scan add findings, withdrawn or corrected ones drop theirs); every other
 * finding is kept as reported. A new scan id; the same source id, so the findings lifecycle applies.
 */
export async function rematchReport(report: ScanReport, advisories: AdvisorySource): Promise<ScanReport> {
  const credentialsOf = new Map<string, string[]>();
  for (const agent of report.agents)
    for (const server of agent.servers)
      credentialsOf.set(`${agent.name}/${server.name}`, [
        ...(server.credential_env_names ?? []),
        ...(server.credential_header_names ?? []),
      ]);
  const pinned: PinnedPackage[] = report.packages
    .filter(
      (p) => p.confidence === 'pinned' && p.version && (p.ecosystem === 'npm' || p.ecosystem === 'pypi'),
    )
    .map((p) => ({
      purl: p.purl,
      ecosystem: p.ecosystem as 'npm' | 'pypi',
      name: p.name,
      version: p.version!,
      servers: p.servers,
      credentials: [...new Set(p.servers.flatMap((ref) => credentialsOf.get(ref) ?? []))],
      locations: p.origins,
    }));
  const vulnerable = new Set<string>();
  const findings = [
    ...report.findings.filter((f) => f.kind !== 'vulnerability'),
    ...(await vulnerabilityFindings(advisories, pinned, vulnerable)),
  ].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  const bySeverity = { none: 0, low: 0, medium: 0, high: 0, critical: 0 } as Record<ScanSeverity, number>;
  for (const f of findings) bySeverity[f.severity]++;
  return {
    ...report,
    scan_id: randomUUID(),
    generated_at: new Date().toISOString(),
    advisory_source: { description: advisories.description },
    findings,
    summary: { ...report.summary, vulnerable_packages: vulnerable.size, findings: bySeverity },
  };
}
