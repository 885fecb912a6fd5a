/**
 * The risk score (0-10) that ranks findings and remediation, documented in docs/scans.md:
 * severity base (critical 8, high 6, medium 4, low 2, none 0) + breadth of exposure min(0.5 × servers, 2.0)
 * + credentials reachable min(0.3 × credential names, 1.5) + a 0.5 boost when the package is launched
 * directly by an MCP server (not only locked in a project); capped at 10. Triage `false_positive` and
 * unexpired `accepted_risk` score 0.
 */
export function riskScore(finding: {
  severity: string;
  servers: readonly string[];
  credentials: readonly string[];
  triage?: string;
  triage_expires_at?: Date | null;
}): number {
  if (finding.triage === 'false_positive') return 0;
  if (
    finding.triage === 'accepted_risk' &&
    (!finding.triage_expires_at || finding.triage_expires_at > new Date())
  )
    return 0;
  const base = { critical: 8, high: 6, medium: 4, low: 2, none: 0 }[finding.severity] ?? 0;
  const score =
    base +
    Math.min(0.5 * finding.servers.length, 2) +
    Math.min(0.3 * finding.credentials.length, 1.5) +
    (finding.servers.length ? 0.5 : 0);
  return Math.round(Math.min(10, score) * 10) / 10;
}
