import { z } from 'zod';
import { advisorySeverity, type Severity } from './severity.js';
import { OSV_ECOSYSTEMS, type AffectedRange, type VersionScheme } from './versions.js';

/** Bounds on one OSV record; the largest real records (big PyPI version lists) stay far below. */
export const OSV_LIMITS = {
  maxRecordBytes: 2 * 1024 * 1024,
  maxAffected: 2000,
  maxEvents: 2000,
  maxVersions: 20_000,
} as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const text = (max: number) => z.string().max(max);
const event = z
  .object({ introduced: text(200), fixed: text(200), last_affected: text(200), limit: text(200) })
  .partial()
  .refine(
    (e) => Object.keys(e).length === 1,
    'each range event has exactly one of introduced/fixed/last_affected/limit',
  );

/** The subset of the OSV schema (https://ossf.github.io/osv-schema/) the scanner uses; unknown fields ignored. */
const OsvRecord = z.object({
  schema_version: text(20).optional(),
  id: z.string().regex(ID, 'id must be 1-128 characters of A-Z a-z 0-9 . _ : -'),
  modified: z.iso.datetime({ offset: true }),
  published: z.iso.datetime({ offset: true }).optional(),
  withdrawn: z.iso.datetime({ offset: true }).optional(),
  aliases: z.array(z.string().regex(ID)).max(100).optional(),
  summary: text(2000).optional(),
  details: z.string().optional(),
  severity: z
    .array(z.object({ type: text(40), score: text(300) }))
    .max(20)
    .optional(),
  affected: z
    .array(
      z.object({
        package: z.object({ ecosystem: text(100), name: text(300), purl: text(500).optional() }).optional(),
        ranges: z
          .array(
            z.object({
              type: z.enum(['SEMVER', 'ECOSYSTEM', 'GIT']),
              events: z.array(event).min(1).max(OSV_LIMITS.maxEvents),
            }),
          )
          .max(100)
          .optional(),
        versions: z.array(text(200)).max(OSV_LIMITS.maxVersions).optional(),
        database_specific: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .max(OSV_LIMITS.maxAffected)
    .optional(),
  references: z
    .array(z.object({ type: text(40), url: text(2000) }))
    .max(500)
    .optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export interface AffectedPackage {
  ecosystem: VersionScheme;
  /** npm name as published; PyPI normalised per PEP 503. */
  name: string;
  ranges: AffectedRange[];
  versions: string[];
}

/** An OSV advisory reduced to what matching, findings and exports need. */
export interface Advisory {
  id: string;
  aliases: string[];
  modified: string;
  published?: string;
  withdrawn?: string;
  summary?: string;
  severity: Severity;
  cvss_score?: number;
  cvss_vector?: string;
  affected: AffectedPackage[];
  references: string[];
}

export type OsvParse =
  { ok: true; advisory: Advisory } | { ok: false; reason: string } | { ok: 'skipped'; id: string };

/**
 * Validates one OSV JSON document. Malformed input gives a reason naming the field; a valid advisory that
 * affects no npm or PyPI package is `skipped` (not an error).
 */
export function parseOsv(json: string): OsvParse {
  if (Buffer.byteLength(json) > OSV_LIMITS.maxRecordBytes)
    return { ok: false, reason: `larger than ${OSV_LIMITS.maxRecordBytes} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message.slice(0, 120)}` };
  }
  const parsed = OsvRecord.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `${issue.path.join('.') || '(record)'}: ${issue.message}` };
  }
  const record = parsed.data;
  const affected: AffectedPackage[] = [];
  for (const entry of record.affected ?? []) {
    const ecosystem = entry.package ? OSV_ECOSYSTEMS[entry.package.ecosystem] : undefined;
    if (!ecosystem || !entry.package) continue;
    const name =
      ecosystem === 'pypi' ? entry.package.name.toLowerCase().replace(/[-_.]+/g, '-') : entry.package.name;
    affected.push({ ecosystem, name, ranges: entry.ranges ?? [], versions: entry.versions ?? [] });
  }
  if (!affected.length) return { ok: 'skipped', id: record.id };
  const vectors = (record.severity ?? []).filter((s) => s.type.startsWith('CVSS_')).map((s) => s.score);
  const label = record.database_specific?.severity;
  const { severity, cvss } = advisorySeverity(vectors, typeof label === 'string' ? label : undefined);
  return {
    ok: true,
    advisory: {
      id: record.id,
      aliases: record.aliases ?? [],
      modified: new Date(record.modified).toISOString(),
      ...(record.published ? { published: new Date(record.published).toISOString() } : {}),
      ...(record.withdrawn ? { withdrawn: new Date(record.withdrawn).toISOString() } : {}),
      ...(record.summary ? { summary: record.summary } : {}),
      severity,
      ...(cvss ? { cvss_score: cvss.score, cvss_vector: cvss.vector } : {}),
      affected,
      references: (record.references ?? []).map((r) => r.url).slice(0, 50),
    },
  };
}
