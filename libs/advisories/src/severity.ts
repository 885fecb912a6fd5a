import cvss from 'ae-cvss-calculator';

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** CVSS qualitative rating scale (FIRST, identical in v3.x and v4.0). */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'none';
}

export interface CvssScore {
  score: number;
  vector: string;
  version: '2.0' | '3.0' | '3.1' | '4.0';
}

/** Scores a CVSS vector with ae-cvss-calculator; `undefined` for a vector it cannot parse. */
export function scoreVector(vector: string): CvssScore | undefined {
  try {
    let version: CvssScore['version'];
    let instance: { calculateScores(): { base?: number; overall?: number } };
    if (vector.startsWith('CVSS:4.0/')) [version, instance] = ['4.0', new cvss.Cvss4P0(vector)];
    else if (vector.startsWith('CVSS:3.1/')) [version, instance] = ['3.1', new cvss.Cvss3P1(vector)];
    else if (vector.startsWith('CVSS:3.0/')) [version, instance] = ['3.0', new cvss.Cvss3P0(vector)];
    else if (/^AV:[LAN]\/AC:/.test(vector)) [version, instance] = ['2.0', new cvss.Cvss2(vector)];
    else return undefined;
    const base = instance.calculateScores().base;
    return typeof base === 'number' && Number.isFinite(base) ? { score: base, vector, version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An advisory's severity: the highest-version CVSS vector it carries (4.0 over 3.1 over 3.0 over 2.0), else the
 * database's own label (GitHub's `database_specific.severity`: LOW, MODERATE, HIGH, CRITICAL), else `medium` —
 * an advisory with no rating is not assumed harmless.
 */
export function advisorySeverity(
  vectors: readonly string[],
  label: string | undefined,
): { severity: Severity; cvss?: CvssScore } {
  const scored = vectors.map(scoreVector).filter((s): s is CvssScore => s !== undefined);
  scored.sort((a, b) => Number(b.version) - Number(a.version));
  if (scored.length) return { severity: severityOfScore(scored[0].score), cvss: scored[0] };
  const named = label?.toLowerCase();
  if (named === 'moderate') return { severity: 'medium' };
  if (named && (SEVERITIES as readonly string[]).includes(named)) return { severity: named as Severity };
  return { severity: 'medium' };
}
