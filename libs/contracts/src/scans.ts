/**
 * The scan result `agent-bom scan` prints with `--format json` and pushes to `POST /v1/results/push`.
 * Credential VALUES never appear: only the names of credential-bearing env vars and headers.
 */
import type { FleetAgent, FleetEndpoint } from './fleet.js';

export const SCAN_SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type ScanSeverity = (typeof SCAN_SEVERITIES)[number];

export const FINDING_KINDS = ['vulnerability', 'floating_version', 'credential_exposure'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface ScanPackage {
  purl: string;
  ecosystem: 'npm' | 'pypi' | 'docker';
  name: string;
  version?: string;
  confidence: 'pinned' | 'range' | 'floating';
  /** `agent/server` references of the servers that run this package (empty for project-only packages). */
  servers: string[];
  /** Lockfiles or launchers it was found in. */
  origins: string[];
}

export interface ScanFinding {
  /** Stable across scans: the same kind, subject and rule always give the same id. */
  id: string;
  kind: FindingKind;
  severity: ScanSeverity;
  title: string;
  /** The package purl (vulnerability, floating_version) or `agent/server` (credential_exposure). */
  subject: string;
  advisory_id?: string;
  aliases?: string[];
  cvss_score?: number;
  cvss_vector?: string;
  fixed_version?: string;
  /** `agent/server` references the finding reaches. */
  servers: string[];
  /** Credential NAMES reachable through those servers. */
  credentials: string[];
  /** Where to fix it: a lockfile or MCP config path. */
  locations: string[];
}

export interface ScanReport {
  schema_version: '1';
  document_type: 'agent-bom.scan';
  scan_id: string;
  generated_at: string;
  source_id: string;
  endpoint?: FleetEndpoint;
  advisory_source: { description: string; advisories?: number };
  agents: FleetAgent[];
  packages: ScanPackage[];
  findings: ScanFinding[];
  summary: {
    agents: number;
    servers: number;
    packages: number;
    vulnerable_packages: number;
    findings: Record<ScanSeverity, number>;
  };
  warnings: Array<{ path: string; message: string }>;
}

/** Bounds the control plane enforces on a pushed result. */
export const SCAN_LIMITS = { agents: 1000, packages: 10_000, findings: 10_000, warnings: 500 } as const;

/** Where `agent-bom scan` pushes results (relative to the control-plane URL). */
export const RESULTS_PUSH_PATH = '/v1/results/push';
