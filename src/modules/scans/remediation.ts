import path from 'node:path';
import { compareVersions } from '../../../libs/advisories/src/index.js';
import type { RemediationItemView } from '../../../libs/contracts/src/index.js';
import { isLockfileName } from '../../../libs/scan/src/index.js';
import { riskScore } from './risk.js';
import type { StoredFinding } from './scans.repository.js';

/**
 * Remediation from open vulnerability findings: one item per vulnerable package (purl), with the upgrade
 * target and the change to make where it is pinned, ranked by the risk the upgrade removes.
 */
export function remediationPlan(findings: readonly StoredFinding[]): RemediationItemView[] {
  const byPackage = new Map<string, StoredFinding[]>();
  for (const f of findings) {
    if (f.kind !== 'vulnerability' || f.resolved_at) continue;
    byPackage.set(f.subject, [...(byPackage.get(f.subject) ?? []), f]);
  }
  const items: RemediationItemView[] = [];
  for (const [purl, list] of byPackage) {
    const parsed = parsePurl(purl);
    if (!parsed) continue;
    const scheme = parsed.ecosystem === 'pypi' ? 'pypi' : 'npm';
    let fixed: string | null = null;
    for (const f of list) {
      if (f.fixed_version && (fixed === null || (compareVersions(scheme, f.fixed_version, fixed) ?? 0) > 0))
        fixed = f.fixed_version;
    }
    const servers = [...new Set(list.flatMap((f) => f.servers))].sort();
    const credentials = [...new Set(list.flatMap((f) => f.credentials))].sort();
    const locations = [...new Set(list.flatMap((f) => f.locations))].sort();
    const worst = list.reduce((a, b) => (b.severity_rank > a.severity_rank ? b : a));
    items.push({
      package: purl,
      ecosystem: parsed.ecosystem,
      name: parsed.name,
      current_version: parsed.version,
      fixed_version: fixed,
      resolves: list
        .filter((f) => f.fixed_version)
        .map((f) => f.advisory_id!)
        .sort(),
      unfixed: list
        .filter((f) => !f.fixed_version)
        .map((f) => f.advisory_id!)
        .sort(),
      severity: worst.severity,
      risk_removed:
        Math.round(list.filter((f) => f.fixed_version).reduce((n, f) => n + riskScore(f), 0) * 10) / 10,
      servers,
      credentials,
      changes: fixed ? locations.map((file) => change(file, parsed, fixed!)) : [],
    });
  }
  return items.sort((a, b) => b.risk_removed - a.risk_removed || a.package.localeCompare(b.package));
}

function change(file: string, pkg: { ecosystem: string; name: string; version: string }, fixed: string) {
  const base = path.basename(file);
  if (isLockfileName(base)) {
    const how =
      base === 'requirements.txt' || base.startsWith('requirements')
        ? `replace ${pkg.name}==${pkg.version} with ${pkg.name}==${fixed}`
        : base === 'poetry.lock'
          ? `poetry add ${pkg.name}@^${fixed} (or poetry update ${pkg.name})`
          : base === 'uv.lock'
            ? `uv lock --upgrade-package ${pkg.name}==${fixed}`
            : base === 'pnpm-lock.yaml'
              ? `pnpm update ${pkg.name}@${fixed}`
              : base === 'yarn.lock'
                ? `yarn up ${pkg.name}@${fixed}`
                : `npm install ${pkg.name}@${fixed} (a transitive dependency: add an "overrides" entry "${pkg.name}": "${fixed}")`;
    return { file, kind: 'lockfile' as const, change: how };
  }
  const separator = pkg.ecosystem === 'pypi' ? '==' : '@';
  return {
    file,
    kind: 'mcp_config' as const,
    change: `in the server's args, replace ${pkg.name}${separator}${pkg.version} with ${pkg.name}${separator}${fixed}`,
  };
}

function parsePurl(purl: string): { ecosystem: string; name: string; version: string } | undefined {
  const match = /^pkg:(npm|pypi)\/(.+)@([^@?#]+)$/.exec(purl);
  if (!match) return undefined;
  return { ecosystem: match[1], name: decodeURIComponent(match[2]), version: decodeURIComponent(match[3]) };
}
