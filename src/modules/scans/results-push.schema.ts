import { z } from 'zod';
import {
  AUTH_MODES,
  CLIENTS,
  FINDING_KINDS,
  SCAN_LIMITS,
  SCAN_SEVERITIES,
  SOURCE_ID_PATTERN,
  SOURCE_ID_RULE,
  TRANSPORTS,
} from '../../../libs/contracts/src/index.js';

const name = z.string().min(1).max(500);
const names = z.array(z.string().min(1).max(200)).max(200);
const path = z.string().min(1).max(4096);

const server = z.object({
  name,
  transport: z.enum(TRANSPORTS),
  command: z.string().max(4096).optional(),
  args: z.array(z.string().max(8192)).max(500).optional(),
  url: z.string().max(8192).optional(),
  declared_tools: names.optional(),
  auth_mode: z.enum(AUTH_MODES),
  credential_env_names: names.optional(),
  credential_header_names: names.optional(),
  config_path: path,
  scope: z.enum(['global', 'project']).optional(),
  project_path: path.optional(),
  introspection: z.unknown().optional(),
});

/**
 * `POST /v1/results/push`: the document `agent-bom scan --format json` prints. Unknown top-level fields are
 * refused (strict), sizes are bounded, and every problem names its field.
 */
export const ResultsPushSchema = z.strictObject({
  schema_version: z.literal('1'),
  document_type: z.literal('agent-bom.scan'),
  scan_id: z.uuid(),
  generated_at: z.iso.datetime({ offset: true }),
  source_id: z.string().regex(SOURCE_ID_PATTERN, SOURCE_ID_RULE),
  endpoint: z.record(z.string(), z.unknown()).optional(),
  advisory_source: z.object({
    description: z.string().max(4096),
    advisories: z.number().int().min(0).optional(),
  }),
  agents: z
    .array(
      z.object({
        name,
        client: z.enum(CLIENTS),
        config_paths: z.array(path).max(100).optional(),
        servers: z.array(server).max(500),
      }),
    )
    .max(SCAN_LIMITS.agents),
  packages: z
    .array(
      z.object({
        purl: z.string().min(5).max(2000).startsWith('pkg:'),
        ecosystem: z.enum(['npm', 'pypi', 'docker']),
        name,
        version: z.string().max(200).optional(),
        confidence: z.enum(['pinned', 'range', 'floating']),
        servers: z.array(name).max(1000),
        origins: z.array(path).max(100),
      }),
    )
    .max(SCAN_LIMITS.packages),
  findings: z
    .array(
      z.object({
        id: z.string().regex(/^f_[0-9a-f]{24}$/, 'must be a finding id (f_ + 24 hex)'),
        kind: z.enum(FINDING_KINDS),
        severity: z.enum(SCAN_SEVERITIES),
        title: z.string().min(1).max(2000),
        subject: z.string().min(1).max(2000),
        advisory_id: z.string().max(128).optional(),
        aliases: z.array(z.string().max(128)).max(100).optional(),
        cvss_score: z.number().min(0).max(10).optional(),
        cvss_vector: z.string().max(300).optional(),
        fixed_version: z.string().max(200).optional(),
        tools: z.array(z.string().max(500)).max(1000).optional(),
        servers: z.array(name).max(1000),
        credentials: names,
        locations: z.array(path).max(100),
      }),
    )
    .max(SCAN_LIMITS.findings),
  summary: z.record(z.string(), z.unknown()),
  warnings: z
    .array(z.object({ path: z.string().max(4096), message: z.string().max(2000) }))
    .max(SCAN_LIMITS.warnings),
});

export type ResultsPush = z.infer<typeof ResultsPushSchema>;
